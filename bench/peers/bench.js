// bench.js - the swb-bench task in Node.js, for comparison: N workers, K tasks kept in flight,
// each task {a:1, b:2} -> {sum:3}, timed per task. Three ways a Node program would do it:
//   node-fork     child_process.fork, messages over the IPC channel
//   node-threads  worker_threads, postMessage
//   piscina       a Piscina pool (its own queue and dispatch)
// For fork and worker_threads the dispatch is the baseline's: the worker with the fewest tasks
// in flight. Prints the fields swb-bench prints (tasks/s, p50/p99 us, CPU us per task).
//
// usage: node bench.js [--mode fork|threads|piscina] [--workers N] [--inflight K]
//                      [--tasks N] [--warmup N] [--json]
// With no --mode/--inflight it runs every mode at K=1 and K=256.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { fork } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');

function parseArgs(argv) {
  const o = { modes: null, workers: 2, inflights: null, tasks: null, warmup: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const v = Number(next());
      if (!Number.isInteger(v) || v < 0) throw new Error(`bad value for ${a}`);
      return v;
    };
    if (a === '--mode') {
      const m = next();
      if (!['fork', 'threads', 'piscina'].includes(m)) throw new Error('mode is fork|threads|piscina');
      o.modes = [m];
    } else if (a === '--workers') o.workers = Math.max(1, num());
    else if (a === '--inflight') o.inflights = [Math.max(1, num())];
    else if (a === '--tasks') o.tasks = Math.max(1, num());
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  o.modes = o.modes || ['fork', 'threads', 'piscina'];
  o.inflights = o.inflights || [1, 256];
  return o;
}

// CPU of every thread of process `pid` in ns, from /proc (as swb-bench reads it).
function procCpuNs(pid) {
  let sum = 0;
  try {
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const s = fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8');
      sum += Number(s.split(' ')[0]);
    }
  } catch {
    // the process is gone
  }
  return sum;
}

function selfCpuNs() {
  const u = process.cpuUsage(); // getrusage(RUSAGE_SELF): every thread of this process
  return (u.user + u.system) * 1000;
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const i = Math.ceil((sorted.length * p) / 100);
  return sorted[Math.max(0, i - 1)];
}

// Drive a channel with K tasks in flight. `submit(seq)` sends task seq; the channel calls
// `done(seq, reply)` for each answer. Resolves with the measured figures.
function drive(cfg, start, submit, meter) {
  return new Promise((resolve, reject) => {
    const total = cfg.warmup + cfg.tasks;
    const t0 = new Float64Array(total);
    const lat = new Float64Array(cfg.tasks);
    let submitted = 0, finished = 0, errors = 0;
    let tStart = 0, cpuStart = 0, wrkStart = 0;
    const begin = () => {
      tStart = performance.now();
      cpuStart = selfCpuNs();
      wrkStart = meter();
    };
    const pump = () => {
      while (submitted < total && submitted - finished < cfg.inflight) {
        t0[submitted] = performance.now();
        submit(submitted++);
      }
    };
    const done = (seq, reply) => {
      const t1 = performance.now();
      if (seq >= cfg.warmup) {
        lat[seq - cfg.warmup] = (t1 - t0[seq]) * 1000;
        if (!reply || reply.sum !== 3) errors++;
      }
      finished++;
      if (finished === cfg.warmup) begin();
      if (finished === total) {
        const wall = performance.now() - tStart;
        const cpu = selfCpuNs() - cpuStart;
        const wrk = meter() - wrkStart;
        lat.sort();
        resolve({
          secs: wall / 1000,
          tasks_per_s: (cfg.tasks * 1000) / wall,
          p50_us: percentile(lat, 50),
          p99_us: percentile(lat, 99),
          cpu_us_per_task: (cpu + wrk) / 1000 / cfg.tasks,
          worker_us_per_task: wrk / 1000 / cfg.tasks,
          errors,
        });
        return;
      }
      pump();
    };
    start(done, reject);
    if (cfg.warmup === 0) begin();
    pump();
  });
}

// Least-busy dispatch over N message channels (fork children or worker threads).
function leastBusy(n) {
  const inflight = new Uint32Array(n);
  return {
    pick() {
      let best = 0;
      for (let i = 1; i < n; i++) if (inflight[i] < inflight[best]) best = i;
      inflight[best]++;
      return best;
    },
    free(i) {
      inflight[i]--;
    },
  };
}

async function runFork(cfg) {
  const kids = [];
  for (let i = 0; i < cfg.workers; i++) kids.push(fork(path.join(__dirname, 'sum_child.js')));
  await Promise.all(kids.map((k) => new Promise((r) => k.once('spawn', r))));
  const lb = leastBusy(cfg.workers);
  const res = await drive(
    cfg,
    (done, reject) => {
      kids.forEach((k, i) => {
        k.on('message', (m) => {
          lb.free(i);
          done(m.id, m);
        });
        k.on('error', reject);
      });
    },
    (seq) => kids[lb.pick()].send({ id: seq, a: 1, b: 2 }),
    () => kids.reduce((s, k) => s + procCpuNs(k.pid), 0),
  );
  await Promise.all(
    kids.map((k) => new Promise((r) => (k.exitCode !== null ? r() : (k.once('exit', r), k.disconnect())))),
  );
  return { impl: 'node-fork', transport: 'ipc', ...res };
}

async function runThreads(cfg) {
  const ws = [];
  for (let i = 0; i < cfg.workers; i++) ws.push(new Worker(path.join(__dirname, 'sum_thread.js')));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('online', r))));
  const lb = leastBusy(cfg.workers);
  const res = await drive(
    cfg,
    (done, reject) => {
      ws.forEach((w, i) => {
        w.on('message', (m) => {
          lb.free(i);
          done(m.id, m);
        });
        w.on('error', reject);
      });
    },
    (seq) => ws[lb.pick()].postMessage({ id: seq, a: 1, b: 2 }),
    () => 0, // threads are counted in this process
  );
  await Promise.all(ws.map((w) => w.terminate()));
  return { impl: 'node-threads', transport: 'postMessage', ...res };
}

async function runPiscina(cfg) {
  let Piscina;
  try {
    Piscina = require('piscina');
  } catch {
    throw new Error('piscina is not installed: run `make bench-peers` (npm install in bench/peers)');
  }
  Piscina = Piscina.Piscina || Piscina;
  const pool = new Piscina({
    filename: path.join(__dirname, 'sum_thread.js'),
    minThreads: cfg.workers,
    maxThreads: cfg.workers,
    idleTimeout: 60000,
  });
  // Let the threads start before measuring (warmup also covers this).
  await Promise.all(Array.from({ length: cfg.workers }, () => pool.run({ a: 0, b: 0 })));
  let onDone = null, onError = null;
  const res = await drive(
    cfg,
    (done, reject) => {
      onDone = done;
      onError = reject;
    },
    (seq) => pool.run({ a: 1, b: 2 }).then((r) => onDone(seq, r), (e) => onError(e)),
    () => 0, // threads are counted in this process
  );
  await pool.destroy();
  return { impl: 'piscina', transport: 'postMessage', ...res };
}

function header() {
  const h = ['impl', 'transport', 'workers', 'inflight', 'tasks', 'tasks/s', 'p50 us', 'p99 us', 'cpu us/task', 'broker us/t', 'workers us/t', 'errors'];
  const w = [-12, -11, 7, 8, 8, 10, 9, 9, 11, 12, 12, 6];
  return h.map((s, i) => (w[i] < 0 ? s.padEnd(-w[i]) : s.padStart(w[i]))).join(' ');
}

function row(r) {
  const cells = [
    r.impl.padEnd(12),
    r.transport.padEnd(11),
    String(r.workers).padStart(7),
    String(r.inflight).padStart(8),
    String(r.tasks).padStart(8),
    r.tasks_per_s.toFixed(0).padStart(10),
    r.p50_us.toFixed(1).padStart(9),
    r.p99_us.toFixed(1).padStart(9),
    r.cpu_us_per_task.toFixed(2).padStart(11),
    '-'.padStart(12),
    r.worker_us_per_task.toFixed(2).padStart(12),
    String(r.errors).padStart(6),
  ];
  return cells.join(' ');
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench.js: ${e.message}`);
    process.exit(2);
  }
  const runners = { fork: runFork, threads: runThreads, piscina: runPiscina };
  const results = [];
  if (!o.json) {
    console.log(`machine: ${os.cpus().length} CPUs, ${os.cpus()[0].model}, Linux ${os.release()}, node ${process.version}\n`);
    console.log(header());
  }
  for (const mode of o.modes) {
    for (const k of o.inflights) {
      const tasks = o.tasks ?? (k <= 1 ? 10000 : 100000);
      const cfg = { workers: o.workers, inflight: k, tasks, warmup: o.warmup ?? Math.floor(tasks / 10) };
      const r = await runners[mode](cfg);
      const full = { impl: r.impl, transport: r.transport, workers: cfg.workers, inflight: k, tasks, ...r, broker_us_per_task: null };
      results.push(full);
      if (!o.json) console.log(row(full));
    }
  }
  if (o.json) {
    const machine = { nproc: os.cpus().length, cpu: os.cpus()[0].model, kernel: os.release(), node: process.version };
    console.log(JSON.stringify({ machine, runs: results }, null, 2));
  }
}

main().catch((e) => {
  console.error(`bench.js: ${e.stack || e}`);
  process.exit(1);
});
