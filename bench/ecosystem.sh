#!/usr/bin/env bash
# The figures a user meets before training: the installed package's size and file count, how
# long a ten-line script takes to compile and link against it (the consumer project of
# tests/consumer, configured first, then timed from a clean build), and a do-nothing program's
# start-up time and peak RSS (tapegrad linked, one tensor made). Prints BENCH ecosystem lines.
# Usage: bench/ecosystem.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: ecosystem.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
now() { date +%s.%N; }
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
bytes=$(du -sb "$scratch/prefix" | cut -f1)
files=$(find "$scratch/prefix" -type f | wc -l)
mkdir "$scratch/script"
cat > "$scratch/script/main.cpp" <<'CPP'
#include <fstream>
#include <iostream>
#include <tapegrad/tapegrad.hpp>
namespace tg = tapegrad;
int main(int argc, char**) {
  tg::nn::Sequential model(tg::nn::Linear(4, 8), tg::nn::ReLU(), tg::nn::Linear(8, 1));
  tg::optim::SGD opt(model.parameters(), {.lr = 0.1});
  if (argc > 1) {  // start-up only: print the peak resident size
    std::ifstream status("/proc/self/status");
    for (std::string l; std::getline(status, l);)
      if (l.rfind("VmHWM:", 0) == 0) std::cout << l.substr(6) << "\n";
    return 0;
  }
  const tg::Tensor loss = tg::nn::functional::mse_loss(model(tg::ones({2, 4})), tg::zeros({2, 1}));
  opt.zero_grad(), loss.backward(), opt.step();
}
CPP
cat > "$scratch/script/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(script LANGUAGES CXX)
find_package(tapegrad REQUIRED)
add_executable(script main.cpp)
target_link_libraries(script PRIVATE tapegrad::tapegrad)
CMAKE
cmake -S "$scratch/script" -B "$scratch/b" -DCMAKE_PREFIX_PATH="$scratch/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
best_compile=""
for r in 1 2 3; do
  cmake --build "$scratch/b" --target clean >/dev/null
  t0=$(now)
  cmake --build "$scratch/b" >/dev/null
  t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
  best_compile=$(awk -v a="$best_compile" -v b="$t" 'BEGIN {print (a == "" || b < a) ? b : a}')
done
best_start="" rss=""
TIMEFORMAT=%3R
for r in 1 2 3 4 5; do
  { t=$( { time "$scratch/b/script" startup > "$scratch/hwm"; } 2>&1 ); }
  best_start=$(awk -v a="$best_start" -v b="$t" 'BEGIN {print (a == "" || b * 1000 < a) ? sprintf("%.1f", b * 1000) : a}')
  rss=$(awk '{printf "%.1f", $1 / 1024}' "$scratch/hwm")
done
echo "BENCH ecosystem install_mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1e6}') install_files=$files" \
     "script_compile_s=$best_compile startup_ms=$best_start startup_rss_mib=$rss"
