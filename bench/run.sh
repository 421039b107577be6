#!/usr/bin/env bash
# Runs the side-by-side benchmark: B1-B6 at 1 and 2 threads, each implementation in its own
# process, interleaved (tapegrad libtorch eigen, tapegrad libtorch eigen, ...) REPS times; prints
# medians and ratios from this one run.
# MODE contention: each workload at 1 thread and at the library's default thread count beside one
# busy-loop process (a user compiling beside training), tapegrad and libtorch interleaved, after
# tapegrad's quiet 1-thread time; prints BENCH ... contention=1 lines.
# Usage: bench/run.sh BUILD_DIR [REPS] [quiet|contention]
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [REPS] [quiet|contention]}
reps=${2:-3}
mode=${3:-quiet}
impls=(tapegrad libtorch eigen)
[ -x "$build/bench/bench_libtorch" ] || { echo "run.sh: $build/bench/bench_libtorch missing" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# Seconds of one run: IMPL WORKLOAD THREADS ("default" leaves the count to the library).
run_secs() {
  if [ "$3" = default ]; then "$build/bench/bench_$1" "$2" default; else OMP_NUM_THREADS=$3 "$build/bench/bench_$1" "$2" "$3"; fi |
    sed -n 's/^RESULT seconds=\([^ ]*\).*/\1/p'
}
median_of() { tr ' ' '\n' <<<"$1" | grep . | median; }

if [ "$mode" = contention ]; then
  for w in B1 B2 B3 B4; do
    quiet=""
    for ((r = 0; r < reps; ++r)); do quiet+="$(run_secs tapegrad $w 1) "; done
    sh -c 'while :; do :; done' &
    busy=$!
    trap 'kill $busy 2>/dev/null || true' EXIT
    declare -A s=()
    for ((r = 0; r < reps; ++r)); do
      for i in tapegrad libtorch; do
        for t in 1 default; do s[$i$t]+="$(run_secs $i $w $t) "; done
      done
    done
    kill $busy
    wait $busy 2>/dev/null || true
    q=$(median_of "$quiet") t1=$(median_of "${s[tapegrad1]}") td=$(median_of "${s[tapegraddefault]}")
    l1=$(median_of "${s[libtorch1]}") ld=$(median_of "${s[libtorchdefault]}")
    echo "BENCH $w contention=1 tapegrad_1thread_s=$t1 tapegrad_default_s=$td" \
         "default_over_1thread=$(ratio "$td" "$t1") quiet_1thread_s=$q default_over_quiet_1thread=$(ratio "$td" "$q")" \
         "libtorch_1thread_s=$l1 libtorch_default_s=$ld libtorch_default_over_1thread=$(ratio "$ld" "$l1")"
    unset s
  done
  exit 0
fi
# Each workload's GEMM-bound epoch (bench_core bound: its products as single OpenBLAS calls),
# absent when the machine stayed busy through every try (then "busy", never a ratio).
bound_ratio() { if [ -n "$1" ]; then ratio "$1" "$2"; else echo busy; fi; }
declare -A bound=()
while read -r w t b; do bound[$w$t]=$b; done < <("$build/bench/bench_core" bound |
  sed -n 's/^BENCH bound workload=\([^ ]*\) threads=\([^ ]*\) .*gemm_bound_s=\([^ ]*\).*/\1 \2 \3/p')
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
    if [ "$w" = B3 ]; then
      us() { awk -v s="$1" 'BEGIN {printf "%.2f", s / 20000 * 1e6}'; }
      echo "BENCH $w threads=$t tapegrad_us_per_step=$(us "${m[tapegrad]}") libtorch_us_per_step=$(us "${m[libtorch]}")" \
           "eigen_us_per_step=$(us "${m[eigen]}") vs_libtorch=$(ratio "${m[libtorch]}" "${m[tapegrad]}")" \
           "vs_eigen=$(ratio "${m[eigen]}" "${m[tapegrad]}") rss_tapegrad_mib=${mem[tapegrad]} rss_libtorch_mib=${mem[libtorch]}"
    else
      echo "BENCH $w threads=$t tapegrad_s=${m[tapegrad]} libtorch_s=${m[libtorch]} eigen_s=${m[eigen]}" \
           "vs_libtorch=$(ratio "${m[libtorch]}" "${m[tapegrad]}") vs_eigen=$(ratio "${m[eigen]}" "${m[tapegrad]}")" \
           "acc_tapegrad=${a[tapegrad]} acc_libtorch=${a[libtorch]} acc_eigen=${a[eigen]}" \
           "rss_tapegrad_mib=${mem[tapegrad]} rss_libtorch_mib=${mem[libtorch]}" \
           "gemm_bound_s=${bound[$w$t]:-busy} of_gemm_bound=$(bound_ratio "${bound[$w$t]:-}" "${m[tapegrad]}")"
    fi
    unset secs acc rss m a mem
  done
done
# B1 in float64 against float32, interleaved.
for t in 1 2; do
  f32="" f64=""
  for ((r = 0; r < reps; ++r)); do
    f32+="$(run_secs tapegrad B1 $t) "
    f64+="$(run_secs tapegrad B1f64 $t) "
  done
  a=$(median_of "$f32") b=$(median_of "$f64")
  echo "BENCH B1 dtype=float64 threads=$t float32_s=$a float64_s=$b float64_over_float32=$(ratio "$b" "$a")"
done
# B5, the character LSTM, B6, the small GPT, and PINN, examples/pinn.cpp's training (two
# create_graph gradients a step): tapegrad against libtorch (nothing written by hand in Eigen),
# interleaved. The figure beside the time is the mean loss of the pass's last 32 steps (B5, B6)
# or the last step's loss (PINN). PINN has no GEMM bound: its products are at most 64 x 32 x 32.
for w in B5 B6 PINN; do for t in 1 2; do
  declare -A secs=() loss=() rss=()
  for ((r = 0; r < reps; ++r)); do
    for i in tapegrad libtorch; do
      line=$(OMP_NUM_THREADS=$t "$build/bench/bench_$i" $w "$t" | grep '^RESULT')
      secs[$i]+="$(echo "$line" | field seconds) "
      loss[$i]+="$(echo "$line" | field loss) "
      rss[$i]+="$(echo "$line" | field rss_mib) "
    done
  done
  ts=$(median_of "${secs[tapegrad]}") ls=$(median_of "${secs[libtorch]}")
  bound_fields=""
  [[ $w == PINN ]] ||
    bound_fields="gemm_bound_s=${bound[$w$t]:-busy} of_gemm_bound=$(bound_ratio "${bound[$w$t]:-}" "$ts")"
  echo "BENCH $w threads=$t tapegrad_s=$ts libtorch_s=$ls vs_libtorch=$(ratio "$ls" "$ts")" \
       "loss_tapegrad=$(median_of "${loss[tapegrad]}") loss_libtorch=$(median_of "${loss[libtorch]}")" \
       "rss_tapegrad_mib=$(median_of "${rss[tapegrad]}") rss_libtorch_mib=$(median_of "${rss[libtorch]}")" \
       $bound_fields
  unset secs loss rss
done; done
# HVP: a Hessian-vector product of B1's loss (double backward) over one first-order gradient,
# in each library, one after the other; each run's figures are already medians of five rounds.
for t in 1 2; do
  out="BENCH HVP threads=$t"
  for i in tapegrad libtorch; do
    line=$(OMP_NUM_THREADS=$t "$build/bench/bench_$i" HVP "$t" | grep '^RESULT')
    for f in first_us hvp_us hvp_over_first; do out+=" ${i}_$f=$(echo "$line" | field $f)"; done
  done
  echo "$out"
done
