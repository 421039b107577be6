// gather (one element along a dim per index) and one_hot.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// out[i][j] = x[i][index[i][j]] for dim 1 (torch.gather); index is int64, x's rank.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);

/// int64 (..., num_classes) with a 1 at each index (no gradient); num_classes -1 takes the
/// largest index + 1.
Tensor one_hot(const Tensor& index, std::int64_t num_classes = -1);

}  // namespace tapegrad
