// embedding: a lookup table's rows at integer indices.
#pragma once
#include <cstdint>
#include <optional>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Rows of weight (V, D) at the int64 indices (any shape): out has indices' shape plus (D), as
/// torch's embedding. Repeated indices accumulate their gradients; the row padding_idx (if
/// given; negative counts from V) gets none, so it stays as initialised.
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<std::int64_t> padding_idx = std::nullopt);

}  // namespace tapegrad
