// embedding: a lookup table's rows at integer indices.
#pragma once
#include <cstdint>
#include <optional>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Rows of weight (V, D) at the int64 indices (any shape): out has indices' shape plus (D), as
/// torch's embedding (F.embedding's arguments, in its order). Repeated indices accumulate
/// their gradients; the row padding_idx (if given; negative counts from V) gets none, so it
/// stays as initialised. With max_norm, every row the indices name whose norm_type-norm
/// exceeds max_norm is first scaled in place, in weight itself, to max_norm / (norm + 1e-7)
/// of it, as torch's embedding_renorm_ (not differentiated; weight's version moves on, so a
/// graph that saved weight before cannot be differentiated after). scale_grad_by_freq divides
/// each row's gradient by how often its index occurs in indices.
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<std::int64_t> padding_idx = std::nullopt,
                 std::optional<double> max_norm = std::nullopt, double norm_type = 2,
                 bool scale_grad_by_freq = false);

}  // namespace tapegrad
