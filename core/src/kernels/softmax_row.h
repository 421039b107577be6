// The softmax of one row and its backward, the math softmax and attention share: rows are Eigen
// arrays (strided or contiguous), the row max subtracted so every exponent is <= 0.
#pragma once
#include <limits>
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

/// The input's gradient from the output's g and the softmax y: y (g - sum(g y)).
template <typename G, typename Yv>
auto softmax_row_backward(const G& g, const Yv& y) {
  return y * (g - (g * y).sum());
}

}  // namespace tapegrad
