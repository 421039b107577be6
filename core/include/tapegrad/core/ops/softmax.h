// softmax and log_softmax along a dim.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Numerically stable along dim (finite for logits of +-1000).
Tensor softmax(const Tensor& x, std::int64_t dim);
/// log(softmax(x, dim)), computed directly (finite even where softmax underflows to 0).
Tensor log_softmax(const Tensor& x, std::int64_t dim);

}  // namespace tapegrad
