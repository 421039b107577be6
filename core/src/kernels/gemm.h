// Every matrix product of the library goes through gemm(): one GEMM call per piece of the
// result, a piece per thread of the cap. Letting the BLAS thread each product itself made small
// products (a 64-sample batch) spend more time in the library's spin-waits and sched_yield than in
// the kernel, and collapsed under CPU contention. Inside an active parallel region Eigen's GEMM and
// OpenBLAS's OpenMP build both run single-threaded, so threads never nest.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <type_traits>

// gemm()'s inline path makes the call Eigen 3.4's own small products make (an internal one).
static_assert(EIGEN_WORLD_VERSION == 3 && EIGEN_MAJOR_VERSION == 4,
              "gemm.h: check gemm()'s inline product against this Eigen's ProductEvaluators.h");

namespace tapegrad {

/// Below this many multiply-adds a product runs on the calling thread: waking a second thread
/// costs more than it saves. OpenBLAS keeps products up to this size on one thread too
/// (SMP_THRESHOLD_MIN x GEMM_MULTITHREAD_THRESHOLD), and Eigen is built with
/// EIGEN_DONT_PARALLELIZE, so no product is ever threaded by anyone else.
inline constexpr std::int64_t kGemmParallelMin = std::int64_t{1} << 18;

namespace detail {

/// A matrix in memory: element (i, j) at data[i * outer + j] when row-major, else
/// data[i + j * outer].
template <typename T>
struct GemmOperand {
  T* data;
  std::int64_t rows, cols, outer;
  bool row_major;
};

/// The product itself, compiled once per dtype (kernels/gemm.cpp): the Eigen expressions a call
/// site passes only describe where the matrices are. One instantiation of Eigen's product per
/// call site's expression types was half a megabyte of the installed libraries.
template <typename T>
void gemm_run(bool accumulate, const GemmOperand<T>& dst, const GemmOperand<const T>& lhs,
              const GemmOperand<const T>& rhs);
extern template void gemm_run<float>(bool, const GemmOperand<float>&,
                                     const GemmOperand<const float>&,
                                     const GemmOperand<const float>&);
extern template void gemm_run<double>(bool, const GemmOperand<double>&,
                                      const GemmOperand<const double>&,
                                      const GemmOperand<const double>&);

template <typename T, typename X>
GemmOperand<T> gemm_operand(X&& x) {
  static_assert(std::remove_cvref_t<X>::InnerStrideAtCompileTime == 1,
                "gemm: operands need contiguous rows or columns");
  return {x.data(), x.rows(), x.cols(), x.outerStride(), bool(std::remove_cvref_t<X>::IsRowMajor)};
}

}  // namespace detail

/// dst = lhs * rhs, or dst += lhs * rhs with kAccumulate; dst, lhs and rhs are Eigen matrix
/// expressions with direct access (row-major maps, their transposes and blocks). Big products
/// are split along the longer side of dst into thread_cap() pieces, run by the team.
template <bool kAccumulate, typename Dst, typename Lhs, typename Rhs>
void gemm(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  using T = typename std::remove_cvref_t<Dst>::Scalar;
  // Eigen computes a product this small coefficient by coefficient; done here, inline, exactly as
  // Eigen's own product would (Eigen 3.4's evalTo and addTo make this internal call, so the
  // bits are the same): a call into gemm_run() and its runtime views cost a tiny model's step
  // 5% (B3).
  const std::int64_t depth = lhs.cols();
  if (depth > 0 && depth + dst.rows() + dst.cols() < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) {
    if constexpr (kAccumulate)
      Eigen::internal::call_restricted_packet_assignment_no_alias(
          dst, lhs.lazyProduct(rhs), Eigen::internal::add_assign_op<T, T>());
    else
      Eigen::internal::call_restricted_packet_assignment_no_alias(
          dst, lhs.lazyProduct(rhs), Eigen::internal::assign_op<T, T>());
    return;
  }
  detail::gemm_run<T>(kAccumulate, detail::gemm_operand<T>(dst), detail::gemm_operand<const T>(lhs),
                      detail::gemm_operand<const T>(rhs));
}

}  // namespace tapegrad
