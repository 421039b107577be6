// Statistics over dims: logsumexp, var and std.
#pragma once
#include <cstdint>

#include "tapegrad/core/ops/dims.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// log sum exp over dims, shifted by the maximum: finite for inputs of +-1000.
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);

/// Variance over dims: sum (x - mean)^2 / max(0, N - correction). correction 1 is the unbiased
/// estimate (torch's default, unbiased=true), 0 the population variance.
Tensor var(const Tensor& x, const Dims& dims = {}, double correction = 1, bool keepdim = false);

/// sqrt(var(x, dims, correction, keepdim)).
Tensor std(const Tensor& x, const Dims& dims = {}, double correction = 1, bool keepdim = false);

}  // namespace tapegrad
