// Reordering copies: permute (dims in a new order) and flip (dims reversed).
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/ops/dims.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Dims in a new order: y's dim d is x's dim dims[d] (a copy).
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims);

/// x with the order of each of dims reversed.
Tensor flip(const Tensor& x, const std::vector<std::int64_t>& dims);

}  // namespace tapegrad
