// Joining tensors: cat along an existing dim, stack along a new one.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Joins tensors along an existing dim.
Tensor cat(const std::vector<Tensor>& xs, std::int64_t dim = 0);

/// Joins tensors along a new dim.
Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim = 0);

}  // namespace tapegrad
