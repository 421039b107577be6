// Batch normalisation, as torch.nn.functional.batch_norm: fused forward and backward, float32 and
// float64, with the running statistics updated in training.
#pragma once
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// How batch_norm normalises: batch or running statistics, and their update.
struct BatchNormOptions {
  bool training = true;   ///< batch statistics (and running ones updated) or running ones
  double momentum = 0.1;  ///< running = (1 - momentum) running + momentum batch
  double eps = 1e-5;      ///< added to the variance before its square root
};

/// x (N, C, ...) normalised per channel. Training: by the batch's mean and biased variance
/// over N and the spatial dims, and (when defined) running_mean / running_var (C) updated in
/// place with the mean and the unbiased variance; a channel of one value is an error, as in
/// torch. Evaluation: by running_mean and running_var. Then times weight and plus bias (C;
/// either may be undefined). Differentiable in x, weight and bias.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, const BatchNormOptions& options = {});

}  // namespace tapegrad
