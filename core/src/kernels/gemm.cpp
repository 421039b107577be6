// gemm()'s product, split between the team (kernels/gemm.h).
#include "kernels/gemm.h"

#include <Eigen/Core>
#include <algorithm>

#include "runtime/team.h"

namespace tapegrad::detail {
namespace {

template <typename T>
GemmOperand<T> transposed(GemmOperand<T> m) {
  return {m.data, m.cols, m.rows, m.outer, !m.row_major};
}
template <typename T, int kOrder>
using View =
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, kOrder>, 0, Eigen::OuterStride<>>;
template <typename T, int kOrder>
using ConstView = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, kOrder>, 0,
                             Eigen::OuterStride<>>;

// One GEMM on the calling thread: a row-major dst and each operand in its own order, so four
// products per dtype in all.
template <typename T, int kLhsOrder, int kRhsOrder>
void product(bool accumulate, T* d, std::int64_t rows, std::int64_t cols, std::int64_t d_outer,
             const T* l, std::int64_t depth, std::int64_t l_outer, const T* r,
             std::int64_t r_outer) {
  View<T, Eigen::RowMajor> dst(d, rows, cols, Eigen::OuterStride<>(d_outer));
  const ConstView<T, kLhsOrder> lhs(l, rows, depth, Eigen::OuterStride<>(l_outer));
  const ConstView<T, kRhsOrder> rhs(r, depth, cols, Eigen::OuterStride<>(r_outer));
  // As Eigen's dst = lhs * rhs for products past gemm()'s inline ones: zero, then accumulate
  // (Eigen zeroes a strided map row by row, a memset call a row: a tenth of a 64x64x64 product).
  if (!accumulate) {
    if (d_outer == cols)
      std::fill_n(d, rows * cols, T(0));
    else
      dst.setZero();
  }
  dst.noalias() += lhs * rhs;
}

// `transposed`: dst was column-major, and this is its transpose (gemm_run).
template <typename T, int kLhsOrder, int kRhsOrder>
void run(bool accumulate, const GemmOperand<T>& dst, const GemmOperand<const T>& lhs,
         const GemmOperand<const T>& rhs, bool transposed) {
  const std::int64_t rows = dst.rows, cols = dst.cols, depth = lhs.cols;
  if (rows * cols * depth < kGemmParallelMin || nested()) {
    product<T, kLhsOrder, kRhsOrder>(accumulate, dst.data, rows, cols, dst.outer, lhs.data, depth,
                                     lhs.outer, rhs.data, rhs.outer);
    return;
  }
  // One piece per thread of the cap, whatever the team: OpenBLAS's results depend on where a
  // block starts, so the pieces must not move with the load. The longer side of the caller's
  // dst is split, its rows on a tie (a transposed dst's rows are the caller's columns). A piece
  // of rows starts b rows further into dst and lhs, one of columns b columns into dst and rhs.
  const bool by_rows = transposed ? rows > cols : rows >= cols;
  const std::int64_t n = by_rows ? rows : cols;
  const std::int64_t pieces = std::min<std::int64_t>(thread_cap(), n);
  const int team = static_cast<int>(std::min<std::int64_t>(team_threads(), pieces));
  const std::int64_t l_row = kLhsOrder == Eigen::RowMajor ? lhs.outer : 1;
  const std::int64_t r_col = kRhsOrder == Eigen::RowMajor ? 1 : rhs.outer;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
  for (std::int64_t k = 0; k < pieces; ++k) {
    const ChunkScope scope;
    const std::int64_t b = n * k / pieces, e = n * (k + 1) / pieces;
    if (by_rows)
      product<T, kLhsOrder, kRhsOrder>(accumulate, dst.data + b * dst.outer, e - b, cols, dst.outer,
                                       lhs.data + b * l_row, depth, lhs.outer, rhs.data, rhs.outer);
    else
      product<T, kLhsOrder, kRhsOrder>(accumulate, dst.data + b, rows, e - b, dst.outer, lhs.data,
                                       depth, lhs.outer, rhs.data + b * r_col, rhs.outer);
  }
}

}  // namespace

template <typename T>
void gemm_run(bool accumulate, const GemmOperand<T>& dst, const GemmOperand<const T>& lhs,
              const GemmOperand<const T>& rhs) {
  // A column-major dst is the row-major transposed product: dst^T = rhs^T lhs^T.
  const bool t = !dst.row_major;
  const GemmOperand<T> d = t ? transposed(dst) : dst;
  const GemmOperand<const T> l = t ? transposed(rhs) : lhs, r = t ? transposed(lhs) : rhs;
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
  if (l.row_major)
    r.row_major ? run<T, R, R>(accumulate, d, l, r, t) : run<T, R, C>(accumulate, d, l, r, t);
  else
    r.row_major ? run<T, C, R>(accumulate, d, l, r, t) : run<T, C, C>(accumulate, d, l, r, t);
}

template void gemm_run<float>(bool, const GemmOperand<float>&, const GemmOperand<const float>&,
                              const GemmOperand<const float>&);
template void gemm_run<double>(bool, const GemmOperand<double>&, const GemmOperand<const double>&,
                               const GemmOperand<const double>&);

}  // namespace tapegrad::detail
