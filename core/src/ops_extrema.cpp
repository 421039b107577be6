// Elementwise extrema of two tensors (maximum, minimum), broadcasting.
// Legend: a, b inputs broadcast to y; g the gradient of y.
#include "elementwise.h"

namespace tapegrad {

// y = max(a, b), NaN if either is.   dy/da = 1 where a > b, 1/2 where a == b, else 0 (and 1
// where a or b is NaN, as torch's where(a == b, g / 2, g).masked_fill_(a < b, 0)).
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op(
      "maximum", a, b, [](const auto& x, const auto& z) { return max_nan(x, z); },
      [](const auto& g, const auto& x, const auto& z, const auto&) {
        return (x == z).select(g * scalar_like(g, 0.5), (x < z).select(scalar_like(g, 0), g));
      },
      [](const auto& g, const auto& x, const auto& z, const auto&) {
        return (x == z).select(g * scalar_like(g, 0.5), (x > z).select(scalar_like(g, 0), g));
      });
}

// y = min(a, b), NaN if either is.   dy/da = 1 where a < b, 1/2 where a == b, else 0.
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op(
      "minimum", a, b, [](const auto& x, const auto& z) { return min_nan(x, z); },
      [](const auto& g, const auto& x, const auto& z, const auto&) {
        return (x == z).select(g * scalar_like(g, 0.5), (x > z).select(scalar_like(g, 0), g));
      },
      [](const auto& g, const auto& x, const auto& z, const auto&) {
        return (x == z).select(g * scalar_like(g, 0.5), (x < z).select(scalar_like(g, 0), g));
      });
}

}  // namespace tapegrad
