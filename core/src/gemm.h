// Every matrix product of the library goes through gemm(): one GEMM call per thread on its own
// block of the result. Letting the BLAS thread each product itself made small products (a
// 64-sample batch) spend more time in the library's spin-waits and sched_yield than in the
// kernel, and collapsed under CPU contention. Inside an active parallel region Eigen's GEMM and
// OpenBLAS's OpenMP build both run single-threaded, so threads never nest.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace tapegrad {

/// Below this many multiply-adds a product runs on the calling thread: waking a second thread
/// costs more than it saves. OpenBLAS keeps products up to this size on one thread too
/// (SMP_THRESHOLD_MIN x GEMM_MULTITHREAD_THRESHOLD), and Eigen is built with
/// EIGEN_DONT_PARALLELIZE, so no product is ever threaded by anyone else.
inline constexpr std::int64_t kGemmParallelMin = std::int64_t{1} << 18;

/// dst = lhs * rhs, or dst += lhs * rhs with kAccumulate; dst, lhs and rhs are Eigen matrix
/// expressions with direct access (row-major maps, their transposes and blocks). Big products
/// are split across threads along the longer side of dst.
template <bool kAccumulate, typename Dst, typename Lhs, typename Rhs>
void gemm(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  const std::int64_t rows = dst.rows(), cols = dst.cols(), depth = lhs.cols();
  auto product = [](auto&& d, const auto& l, const auto& r) {
    if constexpr (kAccumulate)
      d.noalias() += l * r;
    else
      d.noalias() = l * r;
  };
  const int threads = omp_get_max_threads();
  if (threads == 1 || omp_in_parallel() || rows * cols * depth < kGemmParallelMin) {
    product(dst, lhs, rhs);
    return;
  }
  const bool by_rows = rows >= cols;
  const std::int64_t n = by_rows ? rows : cols;
#pragma omp parallel num_threads(static_cast <int>(std::min <std::int64_t>(threads, n)))
  {
    const std::int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const std::int64_t b = n * t / nt, e = n * (t + 1) / nt;
    if (b < e) {
      if (by_rows)
        product(dst.middleRows(b, e - b), lhs.middleRows(b, e - b), rhs);
      else
        product(dst.middleCols(b, e - b), lhs, rhs.middleCols(b, e - b));
    }
  }
}

}  // namespace tapegrad
