#!/usr/bin/env bash
# Synchronous against asynchronous SGD (examples/async_comparison.cpp): every method on the line
# and on the Fashion-MNIST MLP, then each again with one worker slowed, then the table and the
# figure. Two ranks for data-parallel and local SGD, three for the parameter server (its server
# and two workers, on this project's 2-core machine with --oversubscribe), two threads for
# Hogwild!.
# Usage: scripts/compare_async.sh BUILD_DIR OUT_DIR [DATA_DIR]
set -euo pipefail
build=${1:?usage: compare_async.sh BUILD_DIR OUT_DIR [DATA_DIR]}
out=${2:?usage: compare_async.sh BUILD_DIR OUT_DIR [DATA_DIR]}
data=${3:-data/fashion-mnist}
bin="$build/examples/async_comparison"
[ -x "$bin" ] || { echo "compare_async: $bin is not built (MPI not found?)" >&2; exit 1; }
mpi=(mpiexec --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)

for problem in line mlp; do
  # A slowed worker sleeps in every step: 2 ms on the MLP, 4 times its step of 0.5 ms on this
  # machine; 0.1 ms on the line, whose step takes 8 us (a sleep takes 0.06 ms at the least).
  slow=$([ "$problem" = line ] && echo 0.1 || echo 2)
  common=(--problem "$problem" --out "$out" --data "$data")
  for suffix in "" -slow; do
    extra=()
    [ -n "$suffix" ] && extra=(--slow-ms "$slow")
    "${mpi[@]}" -n 2 "$bin" "${common[@]}" --method sync --label "sync$suffix" "${extra[@]}"
    [ -z "$suffix" ] && "${mpi[@]}" -n 2 "$bin" "${common[@]}" --method local --period 4 \
      --label local4
    "${mpi[@]}" -n 2 "$bin" "${common[@]}" --method local --period 16 --label "local16$suffix" \
      "${extra[@]}"
    if [ -z "$suffix" ]; then
      "${mpi[@]}" -n 3 "$bin" "${common[@]}" --method ps --staleness 0 --label ps0
      "${mpi[@]}" -n 3 "$bin" "${common[@]}" --method ps --staleness 4 --label ps4
    fi
    "${mpi[@]}" -n 3 "$bin" "${common[@]}" --method ps --label "ps$suffix" "${extra[@]}"
    "$bin" "${common[@]}" --method hogwild --label "hogwild$suffix" "${extra[@]}"
  done
done
"$bin" --report --out "$out" --data "$data"
