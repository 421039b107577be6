// Comparisons (broadcasting; 1 where the relation holds, 0 elsewhere, in the inputs' common
// dtype) and sign. Never recorded: a step function has no useful gradient.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// 1 where a == b, 0 elsewhere.
Tensor eq(const Tensor& a, const Tensor& b);
/// 1 where a != b, 0 elsewhere.
Tensor ne(const Tensor& a, const Tensor& b);
/// 1 where a < b, 0 elsewhere.
Tensor lt(const Tensor& a, const Tensor& b);
/// 1 where a <= b, 0 elsewhere.
Tensor le(const Tensor& a, const Tensor& b);
/// 1 where a > b, 0 elsewhere.
Tensor gt(const Tensor& a, const Tensor& b);
/// 1 where a >= b, 0 elsewhere.
Tensor ge(const Tensor& a, const Tensor& b);

/// -1, 0 or 1 by the sign of each element (no gradient, like the comparisons).
Tensor sign(const Tensor& x);

}  // namespace tapegrad
