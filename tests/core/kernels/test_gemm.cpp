// gemm(): every storage order of dst, lhs and rhs, strided, in each path (inline
// coefficient-based, GEMV, one GEMM, split between the cap's pieces), against a sum in long
// double, and unsplit to the bit against Eigen's own product of the same expressions.
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <random>
#include <vector>

#include "../helpers.h"
#include "kernels/gemm.h"

namespace {

template <typename T, int kOrder>
using Strided =
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, kOrder>, 0, Eigen::OuterStride<>>;

// A rows x cols matrix in a buffer with 3 spare elements after each row (or column), filled
// with a sentinel that must survive.
template <typename T, int kOrder>
struct Padded {
  std::int64_t rows, cols, outer;
  std::vector<T> buf;
  Padded(std::int64_t r, std::int64_t c, std::mt19937& rng) : rows(r), cols(c) {
    outer = (kOrder == Eigen::RowMajor ? c : r) + 3;
    buf.assign(static_cast<std::size_t>(outer * (kOrder == Eigen::RowMajor ? r : c)), T(7));
    std::uniform_real_distribution<double> u(-1, 1);
    for (std::int64_t i = 0; i < r; ++i)
      for (std::int64_t j = 0; j < c; ++j) at(i, j) = static_cast<T>(u(rng));
  }
  T& at(std::int64_t i, std::int64_t j) {
    return buf[static_cast<std::size_t>(kOrder == Eigen::RowMajor ? i * outer + j : j * outer + i)];
  }
  Strided<T, kOrder> map() { return {buf.data(), rows, cols, Eigen::OuterStride<>(outer)}; }
  bool padding_intact() const {
    const std::int64_t inner = kOrder == Eigen::RowMajor ? cols : rows;
    for (std::size_t k = 0; k < buf.size(); ++k)
      if (static_cast<std::int64_t>(k) % outer >= inner && buf[k] != T(7)) return false;
    return true;
  }
};

template <typename T, int kD, int kL, int kR>
void check(std::int64_t m, std::int64_t n, std::int64_t k, bool accumulate) {
  INFO(m, "x", n, "x", k, " accumulate ", accumulate, " row-major dst/lhs/rhs ",
       kD == Eigen::RowMajor, kL == Eigen::RowMajor, kR == Eigen::RowMajor);
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 17 + k));
  Padded<T, kD> d(m, n, rng);
  Padded<T, kL> l(m, k, rng);
  Padded<T, kR> r(k, n, rng);
  std::vector<long double> want(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      long double s = accumulate ? d.at(i, j) : 0;
      for (std::int64_t p = 0; p < k; ++p) s += static_cast<long double>(l.at(i, p)) * r.at(p, j);
      want[static_cast<std::size_t>(i * n + j)] = s;
    }
  const auto lm = l.map();
  const auto rm = r.map();
  // Eigen's own product first, in the same buffer (its small products' bits depend on the
  // destination's alignment: a SIMD head and tail are summed another way).
  const std::vector<T> before = d.buf;
  if (accumulate)
    d.map().noalias() += lm * rm;
  else
    d.map().noalias() = lm * rm;
  const std::vector<T> eigen = d.buf;
  d.buf.assign(before.begin(), before.end());
  if (accumulate)
    tg::gemm<true>(d.map(), lm, rm);
  else
    tg::gemm<false>(d.map(), lm, rm);
  if (m * n * k < tg::kGemmParallelMin || tg::get_num_threads() == 1) CHECK(d.buf == eigen);
  const double tol = (std::is_same_v<T, float> ? 1e-6 : 1e-14) * static_cast<double>(k + 1);
  double worst = 0;
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      worst = std::max(
          worst,
          static_cast<double>(std::abs(d.at(i, j) - want[static_cast<std::size_t>(i * n + j)])));
  CHECK(worst <= tol);
  CHECK(d.padding_intact());
}

template <typename T, int kD, int kL, int kR>
void all_sizes() {
  // Inline (m + n + k < 20), GEMV, one GEMM, split by rows (m >= n), by columns, a square
  // split, empty results, no depth.
  const std::vector<std::array<std::int64_t, 3>> sizes{
      {2, 3, 4},      {1, 8, 8},      {8, 1, 8},       {1, 40, 40}, {40, 1, 40}, {30, 40, 50},
      {300, 90, 100}, {70, 260, 150}, {120, 120, 100}, {0, 5, 30},  {5, 0, 30},  {5, 6, 0}};
  for (const auto& [m, n, k] : sizes)
    for (const bool accumulate : {false, true}) check<T, kD, kL, kR>(m, n, k, accumulate);
}

template <typename T>
void every_order() {
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
  all_sizes<T, R, R, R>(), all_sizes<T, R, R, C>(), all_sizes<T, R, C, R>(),
      all_sizes<T, R, C, C>();
  all_sizes<T, C, R, R>(), all_sizes<T, C, R, C>(), all_sizes<T, C, C, R>(),
      all_sizes<T, C, C, C>();
}

}  // namespace

TEST_CASE("gemm: every storage order, strided, inline, whole and split, float and double") {
  for (const int cap : {2, 1}) {  // the split path needs a cap above 1; at 1, all bits are Eigen's
    const tg::NumThreadsGuard guard(cap);
    every_order<float>();
    every_order<double>();
  }
}
