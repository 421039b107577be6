// Reductions: sum and mean (of everything or along a dim), max / min along a dim with their
// indices, argmax.
#pragma once
#include <cstdint>
#include <utility>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// The sum of every element (0-d).
Tensor sum(const Tensor& x);
/// Sums along dim, which is kept with size 1 when keepdim.
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// The mean of every element (0-d); x must be floating.
Tensor mean(const Tensor& x);
/// Means along dim, which is kept with size 1 when keepdim.
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);

/// Largest values along dim and their indices (int64, first occurrence); grad flows to them.
std::pair<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Smallest values along dim and their indices (int64, first occurrence); grad flows to them.
std::pair<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim = false);

/// Indices of the largest values along dim (int64, no gradient).
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);

}  // namespace tapegrad
