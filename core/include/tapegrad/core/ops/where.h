// Selection by a mask: where(cond, a, b) and masked_fill.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// a where cond is non-zero, b elsewhere; cond, a and b broadcast together. Each gradient flows
/// to the elements chosen from it.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// The same, with b a scalar.
Tensor where(const Tensor& cond, const Tensor& a, double b);
/// The same, with a a scalar.
Tensor where(const Tensor& cond, double a, const Tensor& b);

/// x with value wherever mask (broadcast to x's shape) is non-zero; no gradient flows there.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace tapegrad
