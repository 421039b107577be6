// The softmax of one row and its backward, the math softmax and attention share: rows are Eigen
// arrays (strided or contiguous), the row max subtracted so every exponent is <= 0.
#pragma once
#include <algorithm>
#include <limits>
#include <numbers>
#include <type_traits>

namespace tapegrad {

/// y = e^(x - max x) / sum e^(x - max x); y may be x itself. A row of -inf gives NaN, as torch.
template <typename Y, typename X>
void softmax_row(Y&& y, const X& x) {
  const auto m = x.maxCoeff();
  y = (x - m).exp();
  y /= y.sum();
}

/// Sets the elements below the smallest normal number in magnitude (1.2e-38 in float) to 0. A
/// subnormal operand costs Intel cores a microcode assist per multiply: attention's weights and
/// their gradients, once training spreads the scores, made OpenBLAS's products of them run at
/// 0.8 GFLOP/s instead of 90 (B6 3.5x slower on an AVX-512 machine). What is dropped weighs
/// nothing next to the row's other terms.
template <typename A>
void flush_subnormal(A&& a) {
  using T = typename std::decay_t<A>::Scalar;
  a = (a.abs() < std::numeric_limits<T>::min()).select(T(0), a);
}

/// softmax_row with the weights that would be subnormal (or within 4x of it: below 4.7e-38 in
/// float) set to 0, computed without subnormal arithmetic: exp() of a lower exponent works
/// through subnormals itself (14% of a B6 step on an AVX-512 machine), so the exponent is
/// clamped at ln(4 x the smallest normal number), and every e^x whose quotient by the row's sum
/// would fall below that number (those clamped among them) becomes 0 instead of being divided.
/// std::max keeps a NaN first operand, so a NaN score, or a row shut out entirely, gives NaN.
template <typename Y, typename X>
void softmax_row_flushed(Y&& y, const X& x) {
  using T = typename std::decay_t<Y>::Scalar;
  constexpr T kMin = std::numeric_limits<T>::min();  // 2^(min_exponent - 1)
  constexpr T cut = T(std::numbers::ln2) * (std::numeric_limits<T>::min_exponent + 1);  // ln 4kMin
  const T m = x.maxCoeff();
  y = (x - m).max(cut).exp();
  const T s = y.sum();  // >= 1; the clamped terms are far below its rounding
  // 1.001: far above exp()'s rounding of e^cut and the quotient's. A NaN s makes floor NaN (it
  // is std::max's first operand), so nothing is zeroed and the whole row is NaN.
  const T floor = T(1.001) * std::max(s * kMin, 4 * kMin);
  y = (y < floor).select(T(0), y / s);
}

/// The input's gradient from the output's g and the softmax y: y (g - sum(g y)).
template <typename G, typename Yv>
auto softmax_row_backward(const G& g, const Yv& y) {
  return y * (g - (g * y).sum());
}

}  // namespace tapegrad
