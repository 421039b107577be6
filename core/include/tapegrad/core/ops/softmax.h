// softmax and log_softmax along a dim.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Numerically stable along dim (finite for logits of +-1000). Masked logits (-inf, e.g. from
/// masked_fill with an attention mask) get probability 0 and no gradient; a row masked
/// entirely is NaN, as in torch 1.13 (the mask's own backward, masked_fill's, then sends 0 to
/// those logits, as torch's does).
Tensor softmax(const Tensor& x, std::int64_t dim);
/// log(softmax(x, dim)), computed directly (finite even where softmax underflows to 0). A
/// masked (-inf) logit gives -inf; a row masked entirely is NaN, as in torch 1.13.
Tensor log_softmax(const Tensor& x, std::int64_t dim);

}  // namespace tapegrad
