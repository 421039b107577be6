// Layer and group normalisation layers (PyTorch's nn.LayerNorm / nn.GroupNorm): per-sample
// statistics, so training and evaluation compute the same thing and there are no buffers.
#pragma once
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// y = layer_norm(x, normalized_shape, weight, bias, eps) over the last dims; weight (1) and bias
/// (0) of normalized_shape when elementwise_affine.
class LayerNorm : public Module {
 public:
  /// Normalises over the last dims, normalized_shape (non-empty, else ShapeError; sizes >= 1 and
  /// eps > 0, else ValueError); elementwise_affine adds weight and bias.
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "LayerNorm"; }
  std::string extra_repr() const override;
  const Tensor& weight() const { return weight_; }  ///< undefined without elementwise_affine
  /// Bias (normalized_shape), initialised to 0; undefined without elementwise_affine.
  const Tensor& bias() const { return bias_; }

 private:
  Shape shape_;
  double eps_;
  Tensor weight_, bias_;
};

/// y = group_norm(x, num_groups, weight, bias, eps) over (N, C, ...); weight (1) and bias (0) per
/// channel when affine.
class GroupNorm : public Module {
 public:
  /// num_channels split into num_groups groups (which must divide it) and eps > 0 (else
  /// ValueError); affine adds weight and bias.
  GroupNorm(std::int64_t num_groups, std::int64_t num_channels, double eps = 1e-5,
            bool affine = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "GroupNorm"; }
  std::string extra_repr() const override;
  const Tensor& weight() const { return weight_; }  ///< undefined without affine
  /// Bias (C), initialised to 0; undefined without affine.
  const Tensor& bias() const { return bias_; }

 private:
  std::int64_t groups_, channels_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace tapegrad::nn
