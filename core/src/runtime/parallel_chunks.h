// parallel_chunks: how elementwise and row loops use the thread team. Work is divided by the
// thread cap alone, so a result is the same bits however many threads ran (team.h says why).
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "runtime/team.h"

namespace tapegrad {

/// Below this many elements a loop runs on the calling thread: starting threads costs more.
inline constexpr std::int64_t kParallelMin = 1 << 15;

/// Splits [0, n) into contiguous chunks and calls f(begin, end) on each, on as many threads as
/// detail::team_threads() gives. Runs f(0, n) on the calling thread when n * cost (elements
/// touched) is too small to pay for threads, or when nested in split work (an op splitting its
/// own work across threads). Chunk bounds depend on n and the thread cap alone, never on the
/// team, so results are the same bits however many threads ran; chunks are handed out in turn,
/// so a thread that starts early takes a late one's. (Four chunks per thread measured the same
/// as one on B1 and B4.) Chunks never overlap: each output element is written by one thread.
template <typename F>
void parallel_chunks(std::int64_t n, F&& f, std::int64_t cost = 1) {
  if (n * cost < kParallelMin || n < 2 || detail::thread_cap() == 1 || detail::nested()) {
    f(std::int64_t{0}, n);
    return;
  }
  const std::int64_t cap = detail::thread_cap();
  const std::int64_t pieces = std::min(n, cap);
  std::int64_t chunk = (n + pieces - 1) / pieces;
  if (cost == 1) chunk = (chunk + 15) / 16 * 16;  // whole SIMD blocks for flat loops
  const std::int64_t chunks = (n + chunk - 1) / chunk;
  const int team = static_cast<int>(std::min<std::int64_t>(detail::team_threads(), chunks));
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
  for (std::int64_t k = 0; k < chunks; ++k) {
    const detail::ChunkScope scope;
    f(k * chunk, std::min(n, (k + 1) * chunk));
  }
}

}  // namespace tapegrad
