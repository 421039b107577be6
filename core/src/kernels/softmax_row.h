// The softmax of one row and its backward, the math softmax and attention share: rows are Eigen
// arrays (strided or contiguous), the row max subtracted so every exponent is <= 0.
#pragma once

namespace tapegrad {

/// y = e^(x - max x) / sum e^(x - max x); y may be x itself. A row of -inf gives NaN, as torch.
template <typename Y, typename X>
void softmax_row(Y&& y, const X& x) {
  const auto m = x.maxCoeff();
  y = (x - m).exp();
  y /= y.sum();
}

/// The input's gradient from the output's g and the softmax y: y (g - sum(g y)).
template <typename G, typename Yv>
auto softmax_row_backward(const G& g, const Yv& y) {
  return y * (g - (g * y).sum());
}

}  // namespace tapegrad
