// Normalisation ops, as torch.nn.functional's: fused forward and backward, float32 and float64.
#pragma once
#include "tapegrad/core/tensor.h"

namespace tapegrad {

struct BatchNormOptions {
  bool training = true;   ///< batch statistics (and running ones updated) or running ones
  double momentum = 0.1;  ///< running = (1 - momentum) running + momentum batch
  double eps = 1e-5;
};

/// x (N, C, ...) normalised per channel. Training: by the batch's mean and biased variance
/// over N and the spatial dims, and (when defined) running_mean / running_var (C) updated in
/// place with the mean and the unbiased variance; a channel of one value is an error, as in
/// torch. Evaluation: by running_mean and running_var. Then times weight and plus bias (C;
/// either may be undefined). Differentiable in x, weight and bias.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, const BatchNormOptions& options = {});

/// x normalised over its last dims, those of normalized_shape (which must end x's shape), by
/// each row's mean and biased variance; then times weight and plus bias (normalized_shape;
/// either may be undefined), as torch's layer_norm. Differentiable in x, weight and bias.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

/// x (N, C, ...) with its C channels split into num_groups groups of consecutive channels, each
/// sample's group normalised by its own mean and biased variance; then times weight and plus
/// bias per channel (C; either may be undefined), as torch's group_norm.
Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

}  // namespace tapegrad
