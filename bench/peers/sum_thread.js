// sum_thread.js - the sum task for worker_threads (postMessage: {id, a, b} -> {id, sum}) and,
// through its default export, for Piscina ({a, b} -> {sum}).
'use strict';
const { parentPort, isMainThread } = require('node:worker_threads');

function sum({ a, b }) {
  return { sum: a + b };
}

if (!isMainThread && parentPort) {
  parentPort.on('message', (m) => {
    // Piscina also loads this file in its workers; its own messages carry no `id`.
    if (m && typeof m.id === 'number') parentPort.postMessage({ id: m.id, sum: m.a + m.b });
  });
}

module.exports = sum;
