#!/usr/bin/env bash
# B2 on this machine four ways, interleaved REPS times (default 3): one process with one
# thread, one process with two threads (bench_tapegrad), and two MPI ranks with one thread each
# (bench_dist) with the default 25 MB buckets (B2's gradients fit one) and with 1 MB buckets
# (two, the first reduced while backward runs), and with Adam sharded across the ranks
# (ZeroRedundancyOptimizer); medians, throughput ratios, the share of the
# 2-rank epoch spent finishing the reduction at the end of backward, where a 2-rank step goes
# (forward, backward before that, optimizer step), and the machine's ceiling: two independent
# one-thread runs side by side, one per core (2 x their throughput over one run alone), and the
# sharded 2-rank speedup as a share of that ceiling (of_ceiling).
# Usage: bench/dist.sh BUILD_DIR [REPS]
set -euo pipefail
build=${1:?usage: dist.sh BUILD_DIR [REPS]}
reps=${2:-3}
[ -x "$build/bench/bench_dist" ] || { echo "dist.sh: $build/bench/bench_dist missing (MPI?)" >&2; exit 1; }
root=""; [ "$(id -u)" -eq 0 ] && root=--allow-run-as-root
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
one1=() one2=() two=() two1=() zero=() zstep=() pairs=() comm=() big=() small=() fwd=() bwd=() stp=() acc=""
for ((r = 0; r < reps; ++r)); do
  one1+=("$(OMP_NUM_THREADS=1 "$build/bench/bench_tapegrad" B2 1 | grep '^RESULT' | field seconds)")
  one2+=("$(OMP_NUM_THREADS=2 "$build/bench/bench_tapegrad" B2 2 | grep '^RESULT' | field seconds)")
  line=$(OMP_NUM_THREADS=1 mpiexec $root -n 2 --bind-to core "$build/bench/bench_dist" 1 | grep '^RESULT')
  two+=("$(echo "$line" | field seconds)")
  fwd+=("$(echo "$line" | field forward_s)")
  bwd+=("$(echo "$line" | field backward_s)")
  stp+=("$(echo "$line" | field step_s)")
  comm+=("$(echo "$line" | field comm_seconds)")
  big+=("$(echo "$line" | field allreduce_grad_s)")
  small+=("$(echo "$line" | field allreduce_1k_s)")
  acc=$(echo "$line" | field accuracy)
  bytes=$(echo "$line" | field grad_bytes)
  # The machine's own ceiling: two independent one-thread B2 runs side by side, one per core.
  pair=$( (OMP_NUM_THREADS=1 taskset -c 0 "$build/bench/bench_tapegrad" B2 1 | grep '^RESULT' | field seconds &
           OMP_NUM_THREADS=1 taskset -c 1 "$build/bench/bench_tapegrad" B2 1 | grep '^RESULT' | field seconds; wait) | sort -g | tail -1)
  pairs+=("$pair")
  two1+=("$(OMP_NUM_THREADS=1 mpiexec $root -n 2 --bind-to core "$build/bench/bench_dist" 1 1 | grep '^RESULT' | field seconds)")
  line=$(OMP_NUM_THREADS=1 mpiexec $root -n 2 --bind-to core "$build/bench/bench_dist" 1 25 zero | grep '^RESULT')
  zero+=("$(echo "$line" | field seconds)")
  zstep+=("$(echo "$line" | field step_s)")
done
m() { printf '%s\n' "$@" | median; }
a=$(m "${one1[@]}") b=$(m "${one2[@]}") c=$(m "${two[@]}") d=$(m "${comm[@]}")
awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" -v g="$(m "${big[@]}")" -v s="$(m "${small[@]}")" \
    -v acc="$acc" -v bytes="$bytes" 'BEGIN {
  printf "BENCH dist B2 p1t1_s=%.3f p1t2_s=%.3f p2t1_s=%.3f speedup_p2t1_over_p1t1=%.2f", a, b, c, a / c
  printf " p2t1_over_p1t2=%.2f comm_share=%.3f allreduce_grad_ms=%.3f grad_mb=%.2f", b / c, d / c, g * 1e3, bytes / 1e6
  printf " allreduce_1k_us=%.1f acc_p2t1=%s\n", s * 1e6, acc }'
awk -v c="$c" -v e="$(m "${two1[@]}")" -v f="$(m "${fwd[@]}")" -v g="$(m "${bwd[@]}")" \
    -v h="$(m "${stp[@]}")" -v d="$d" -v a="$a" -v p="$(m "${pairs[@]}")" 'BEGIN {
  printf "BENCH dist B2 p2t1_bucket1mb_s=%.3f p2t1_forward_s=%.3f p2t1_backward_s=%.3f", e, f, g
  printf " p2t1_sync_s=%.3f p2t1_step_s=%.3f p2t1_s=%.3f", d, h, c
  printf " two_independent_p1t1_s=%.3f machine_ceiling=%.2f\n", p, 2 * a / p }'
awk -v a="$a" -v p="$(m "${pairs[@]}")" -v z="$(m "${zero[@]}")" -v zs="$(m "${zstep[@]}")" 'BEGIN {
  printf "BENCH dist B2 p2t1_zero_s=%.3f p2t1_zero_step_s=%.3f speedup_zero_over_p1t1=%.2f", z, zs, a / z
  printf " of_ceiling=%.2f\n", (a / z) / (2 * a / p) }'
