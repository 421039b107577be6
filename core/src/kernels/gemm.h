// Every matrix product of the library goes through gemm(): one GEMM call per piece of the
// result, a piece per thread of the cap. Letting the BLAS thread each product itself made small
// products (a 64-sample batch) spend more time in the library's spin-waits and sched_yield than in
// the kernel, and collapsed under CPU contention. Inside an active parallel region Eigen's GEMM and
// OpenBLAS's OpenMP build both run single-threaded, so threads never nest.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "runtime/team.h"

namespace tapegrad {

/// Below this many multiply-adds a product runs on the calling thread: waking a second thread
/// costs more than it saves. OpenBLAS keeps products up to this size on one thread too
/// (SMP_THRESHOLD_MIN x GEMM_MULTITHREAD_THRESHOLD), and Eigen is built with
/// EIGEN_DONT_PARALLELIZE, so no product is ever threaded by anyone else.
inline constexpr std::int64_t kGemmParallelMin = std::int64_t{1} << 18;

/// dst = lhs * rhs, or dst += lhs * rhs with kAccumulate; dst, lhs and rhs are Eigen matrix
/// expressions with direct access (row-major maps, their transposes and blocks). Big products
/// are split along the longer side of dst into thread_cap() pieces, run by the team.
template <bool kAccumulate, typename Dst, typename Lhs, typename Rhs>
void gemm(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  const std::int64_t rows = dst.rows(), cols = dst.cols(), depth = lhs.cols();
  auto product = [](auto&& d, const auto& l, const auto& r) {
    if constexpr (kAccumulate)
      d.noalias() += l * r;
    else
      d.noalias() = l * r;
  };
  if (rows * cols * depth < kGemmParallelMin || detail::nested()) {
    product(dst, lhs, rhs);
    return;
  }
  // One piece per thread of the cap, whatever the team: OpenBLAS's results depend on where a
  // block starts, so the pieces must not move with the load.
  const bool by_rows = rows >= cols;
  const std::int64_t n = by_rows ? rows : cols;
  const std::int64_t pieces = std::min<std::int64_t>(detail::thread_cap(), n);
  const int team = static_cast<int>(std::min<std::int64_t>(detail::team_threads(), pieces));
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
  for (std::int64_t k = 0; k < pieces; ++k) {
    const detail::ChunkScope scope;
    const std::int64_t b = n * k / pieces, e = n * (k + 1) / pieces;
    if (by_rows)
      product(dst.middleRows(b, e - b), lhs.middleRows(b, e - b), rhs);
    else
      product(dst.middleCols(b, e - b), lhs, rhs.middleCols(b, e - b));
  }
}

}  // namespace tapegrad
