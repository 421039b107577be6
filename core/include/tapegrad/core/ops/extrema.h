// Extrema: of two tensors elementwise (maximum, minimum) and over dims (amax, amin, and max
// and min of a whole tensor). Tied elements share the gradient, as torch's.
#pragma once
#include <cstdint>

#include "tapegrad/core/ops/dims.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// The larger / smaller of a and b elementwise (broadcasting; NaN wins). Where a == b the
/// gradient is split evenly between them, as torch's.
Tensor maximum(const Tensor& a, const Tensor& b);
/// The smaller of a and b elementwise (broadcasting; NaN wins); ties split the gradient.
Tensor minimum(const Tensor& a, const Tensor& b);

/// Largest / smallest element (0-d). The gradient is shared evenly by the elements equal to it
/// (by the NaNs when it is NaN), as torch's.
Tensor max(const Tensor& x);
/// The smallest element (0-d); ties share the gradient, as for max.
Tensor min(const Tensor& x);

/// Largest / smallest values over dims (NaN wins). Unlike max(x, dim), ties share the gradient
/// evenly, as torch's amax / amin.
Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
/// Smallest values over dims (NaN wins); ties share the gradient, as for amax.
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);

}  // namespace tapegrad
