#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, clang-16 with ASan + UBSan) and runs them.
#   scripts/fuzz.sh [SECONDS]        each target fuzzes for SECONDS (default 60); what it finds
#                                    grows build-asan/corpus/<target>, a failure is saved in
#                                    build-asan/artifacts/<target>/ and stops the script
#   scripts/fuzz.sh --ci [SECONDS]   CI: replays every seed and committed regression input,
#                                    then fuzzes each target for SECONDS (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=fuzz
if [ "${1:-}" = "--ci" ]; then mode=ci; shift; fi
seconds=${1:-$([ "$mode" = ci ] && echo 15 || echo 60)}
build=${FUZZ_BUILD:-build-asan}

# The sanitizer tree (make sanitize builds the same one): only the fuzz targets are built here.
scripts/configure_asan.sh "$build"
targets=(idx mnist archive module_load checkpoint csv log npy safetensors torch pickle brown)
cmake --build "$build" -j "$(nproc)" --target make_seeds "${targets[@]/#/fuzz_}"
rm -rf "$build/seeds"
"$build/tests/fuzz/make_seeds" "$build/seeds"

export OMP_NUM_THREADS=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# One target: replay, then fuzz; non-zero (with the log's tail printed) on a failure.
run_target() {
  local target=$1 bin="$build/tests/fuzz/fuzz_$1" corpus="$build/corpus/$1"
  mkdir -p "$corpus" "$build/artifacts/$target"
  local inputs=("$build/seeds/$target")
  [ -d "tests/fuzz/regressions/$target" ] && inputs+=("tests/fuzz/regressions/$target")
  local count runs
  count=$(find "${inputs[@]}" -type f | wc -l)
  # -runs=0: run every input once and stop (the replay); a failure exits non-zero.
  "$bin" -runs=0 "${inputs[@]}" >"$build/replay_$target.log" 2>&1 ||
    { tail -n 40 "$build/replay_$target.log"; echo "fuzz: $target: replay failed" >&2; return 1; }
  "$bin" -max_total_time="$seconds" -artifact_prefix="$build/artifacts/$target/" \
    "$corpus" "${inputs[@]}" >"$build/fuzz_$target.log" 2>&1 ||
    { tail -n 40 "$build/fuzz_$target.log"; echo "fuzz: $target: failure, input saved in $build/artifacts/$target/" >&2; return 1; }
  runs=$(grep -o 'Done [0-9]* runs' "$build/fuzz_$target.log" | grep -o '[0-9]*' || echo "?")
  echo "fuzz: $target: $count inputs replayed, $runs runs in ${seconds} s, no failure"
}

# One target per core at a time (libFuzzer runs on one thread): the same fuzzing in less time.
pids=()
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do sleep 0.2; done
  run_target "$target" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit "$failed"
