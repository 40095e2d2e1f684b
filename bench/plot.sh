#!/bin/sh
# plot.sh - the scale plot: Switchboard throughput and p99 latency against the number of thread
# workers (1, 8, 64, 512), from `swb-bench --scale --baseline`, drawn with gnuplot into
# bench/scale.png, with the raw ZeroMQ baseline's throughput beside it when the input has it.
#
# usage: bench/plot.sh [scale-output.txt]
#   With a file, plot the table it holds (the text output of `swb-bench --scale`); without,
#   run swb-bench --scale --baseline first ($SWB_BENCH, default build-bench/bin/swb-bench, then
#   build/bin/swb-bench). Rows that failed (e.g. a worker count the runtime refused) are
#   missing from the table and so from the plot.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/scale.png"
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -ge 1 ]; then
    cp "$1" "$tmp/scale.txt"
else
    bin=${SWB_BENCH:-}
    [ -n "$bin" ] || for b in "$root/build-bench/bin/swb-bench" "$root/build/bin/swb-bench"; do
        [ -x "$b" ] && { bin=$b; break; }
    done
    [ -n "$bin" ] || { echo "plot.sh: swb-bench not built" >&2; exit 1; }
    "$bin" --scale --baseline | tee "$tmp/scale.txt"
fi

# Columns of a result row: impl transport workers inflight tasks tasks/s p50 p99 cpu broker ...
awk '$1 == "switchboard" && $2 == "inproc" { print $3, $6, $8, $9, $10 }' "$tmp/scale.txt" \
    > "$tmp/scale.dat"
[ -s "$tmp/scale.dat" ] || { echo "plot.sh: no switchboard rows in the input" >&2; exit 1; }
awk '$1 == "baseline" && $2 == "inproc" { print $3, $6, $8, $9, $10 }' "$tmp/scale.txt" \
    > "$tmp/baseline.dat"
baseline_plot=""
[ -s "$tmp/baseline.dat" ] &&
    baseline_plot=", \"$tmp/baseline.dat\" using 1:2 axes x1y1 with linespoints lw 1 pt 6 lc rgb \"gray40\" title \"raw ZeroMQ baseline (tasks/s)\""
machine=$(sed -n 's/^machine: //p' "$tmp/scale.txt" | head -n 1)
# Mark the worker counts that produced no row, so a gap is not read as a flat line.
labels=""
for n in 1 8 64 512; do
    awk -v n="$n" '$1 == n { found = 1 } END { exit !found }' "$tmp/scale.dat" ||
        labels="$labels set label \"$n: run failed\" at $n, graph 0.5 center rotate by 90 tc rgb \"red\";"
done

gnuplot <<GP
set terminal pngcairo size 640,400 font "sans,8"
set output "$out"
set title "Switchboard dispatch scale: sum tasks, 256 in flight, thread workers over inproc\n{/*0.8 $machine}"
set logscale x 2
set xrange [0.7:724]
set xtics (1, 8, 64, 512)
set xlabel "thread workers"
set ylabel "tasks/s"
set y2label "p99 latency (ms)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid ytics
set key top center
$labels
plot "$tmp/scale.dat" using 1:2 axes x1y1 with linespoints lw 2 pt 7 title "throughput (tasks/s)", \
     "$tmp/scale.dat" using 1:(\$3/1000) axes x1y2 with linespoints lw 2 pt 5 dt 2 title "p99 latency (ms)"$baseline_plot
GP
echo "plot.sh: wrote $out"
