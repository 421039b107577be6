// The p-norm over dims (torch.norm). Batch, layer and group normalisation are in
// batch_norm.h and layer_norm.h.
#pragma once
#include <cstdint>

#include "tapegrad/core/ops/dims.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// The p-norm over dims: (sum |x|^p)^(1/p) for finite p > 0, max |x| for p = inf. At a zero
/// norm the gradient is 0, as torch's.
Tensor norm(const Tensor& x, double p = 2, const Dims& dims = {}, bool keepdim = false);

}  // namespace tapegrad
