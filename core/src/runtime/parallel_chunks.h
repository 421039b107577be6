// parallel_chunks: how elementwise and row loops use the thread team. Work is divided by the
// thread cap alone, so a result is the same bits however many threads ran (team.h says why).
#pragma once
#include <cstdint>
#include <memory>
#include <type_traits>

#include "runtime/team.h"

namespace tapegrad {

/// Below this many elements a loop runs on the calling thread: starting threads costs more.
inline constexpr std::int64_t kParallelMin = 1 << 15;

namespace detail {
/// parallel_chunks' split path, compiled once (parallel.cpp): the team's region calls
/// chunk(fn, begin, end) for each chunk, one indirect call a chunk. Expanded in every caller it
/// was 150 KB of the installed libraries' code, an OpenMP region per loop.
void run_chunks(std::int64_t n, std::int64_t cost,
                void (*chunk)(const void* fn, std::int64_t begin, std::int64_t end),
                const void* fn);
}  // namespace detail

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
  using Fn = std::remove_reference_t<F>;
  detail::run_chunks(
      n, cost,
      [](const void* fn, std::int64_t begin, std::int64_t end) {
        (*static_cast<Fn*>(const_cast<void*>(fn)))(begin, end);
      },
      std::addressof(f));
}

}  // namespace tapegrad
