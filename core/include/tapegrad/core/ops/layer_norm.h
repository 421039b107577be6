// Layer and group normalisation, as torch.nn.functional's: fused forward and backward, float32
// and float64, on one row kernel.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

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
