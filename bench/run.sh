#!/usr/bin/env bash
# Runs the side-by-side benchmark: B1, B2, B3, B4 at 1 and 2 threads, each implementation in its own
# process, interleaved (tapegrad libtorch eigen, tapegrad libtorch eigen, ...) REPS times; prints
# medians and ratios from this one run. Usage: bench/run.sh BUILD_DIR [REPS]
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [REPS]}
reps=${2:-3}
impls=(tapegrad libtorch eigen)
[ -x "$build/bench/bench_libtorch" ] || { echo "run.sh: $build/bench/bench_libtorch missing" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
for w in B1 B2 B3 B4; do
  for t in 1 2; do
    declare -A secs=() acc=() rss=()
    for ((r = 0; r < reps; ++r)); do
      for i in "${impls[@]}"; do
        line=$(OMP_NUM_THREADS=$t "$build/bench/bench_$i" "$w" "$t" | grep '^RESULT')
        secs[$i]+="$(echo "$line" | field seconds) "
        acc[$i]+="$(echo "$line" | field accuracy) "
        rss[$i]+="$(echo "$line" | field rss_mib) "
      done
    done
    declare -A m=() a=() mem=()
    for i in "${impls[@]}"; do
      m[$i]=$(tr ' ' '\n' <<<"${secs[$i]}" | grep . | median)
      a[$i]=$(tr ' ' '\n' <<<"${acc[$i]}" | grep . | median)
      mem[$i]=$(tr ' ' '\n' <<<"${rss[$i]}" | grep . | median)
    done
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
    if [ "$w" = B3 ]; then
      us() { awk -v s="$1" 'BEGIN {printf "%.2f", s / 20000 * 1e6}'; }
      echo "BENCH $w threads=$t tapegrad_us_per_step=$(us "${m[tapegrad]}") libtorch_us_per_step=$(us "${m[libtorch]}")" \
           "eigen_us_per_step=$(us "${m[eigen]}") vs_libtorch=$(ratio "${m[libtorch]}" "${m[tapegrad]}")" \
           "vs_eigen=$(ratio "${m[eigen]}" "${m[tapegrad]}") rss_tapegrad_mib=${mem[tapegrad]} rss_libtorch_mib=${mem[libtorch]}"
    else
      echo "BENCH $w threads=$t tapegrad_s=${m[tapegrad]} libtorch_s=${m[libtorch]} eigen_s=${m[eigen]}" \
           "vs_libtorch=$(ratio "${m[libtorch]}" "${m[tapegrad]}") vs_eigen=$(ratio "${m[eigen]}" "${m[tapegrad]}")" \
           "acc_tapegrad=${a[tapegrad]} acc_libtorch=${a[libtorch]} acc_eigen=${a[eigen]}" \
           "rss_tapegrad_mib=${mem[tapegrad]} rss_libtorch_mib=${mem[libtorch]}"
    fi
    unset secs acc rss m a mem
  done
done
