#!/usr/bin/env bash
# Before/after: runs two builds' bench_tapegrad interleaved (old new, old new, ...) REPS times on
# B1-B4 (or the workloads in $AB_WORKLOADS, e.g. "B4") and prints the medians and their ratio. Build the old commit in a worktree first, e.g.
#   git worktree add /tmp/old <commit> && cmake -S /tmp/old -B /tmp/old/build-bench
#   -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_BUILD_BENCH=ON && cmake --build /tmp/old/build-bench
#   --target bench_tapegrad
# Usage: bench/ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [REPS]
set -euo pipefail
old=${1:?usage: ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [REPS]}
new=${2:?usage: ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [REPS]}
reps=${3:-3}
secs() { OMP_NUM_THREADS=$3 "$1/bench/bench_tapegrad" "$2" "$3" | sed -n 's/^RESULT seconds=\([^ ]*\).*/\1/p'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for w in ${AB_WORKLOADS:-B1 B2 B3 B4}; do
  for t in 1 2; do
    o="" n=""
    for ((r = 0; r < reps; ++r)); do
      o+="$(secs "$old" $w $t) "
      n+="$(secs "$new" $w $t) "
    done
    mo=$(tr ' ' '\n' <<<"$o" | grep . | median)
    mn=$(tr ' ' '\n' <<<"$n" | grep . | median)
    echo "AB $w threads=$t before_s=$mo after_s=$mn speedup=$(awk -v a="$mo" -v b="$mn" 'BEGIN {printf "%.2f", a / b}')"
  done
done
