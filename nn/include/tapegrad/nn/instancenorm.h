// Instance normalisation layers (PyTorch's nn.InstanceNorm1d / InstanceNorm2d): each sample's
// channel normalised by its own mean and biased variance over the spatial dims. Parameters and
// buffers as torch's (weight, bias with affine; running_mean, running_var, num_batches_tracked
// with track_running_stats), so state dicts read the same.
#pragma once
#include <cstdint>

#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// InstanceNorm's settings, as torch's InstanceNorm arguments (whose defaults differ from
/// BatchNorm's).
struct InstanceNormConfig {
  double eps = 1e-5;      ///< added to the variance before its square root (> 0)
  double momentum = 0.1;  ///< running = (1 - momentum) running + momentum (batch mean of stats)
  bool affine = false;    ///< learn weight (1) and bias (0) per channel (torch's default: no)
  /// Keep running statistics and use them in evaluation (torch's default: no: every forward
  /// uses the input's own statistics).
  bool track_running_stats = false;
};

/// The base of the instance norm layers.
class InstanceNorm : public Module {
 public:
  /// The input's own statistics in training, or always without track_running_stats (the
  /// running ones then updated when tracked: the mean over the batch of each instance's mean
  /// and unbiased variance); in evaluation with track_running_stats, the running ones.
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return kind_; }
  std::string extra_repr() const override;
  const Tensor& weight() const { return weight_; }  ///< undefined without affine
  /// Per-channel shift (C), initialised to 0; undefined without affine.
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }  ///< undefined unless tracking
  /// Buffer: the running variance per channel (C), from 1; undefined unless tracking.
  const Tensor& running_var() const { return running_var_; }
  /// Buffer: int64 0-d count of training batches seen; undefined unless tracking.
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 protected:
  /// spatial_dims: 1 for (N, C, L) or (C, L), 2 for (N, C, H, W) or (C, H, W).
  InstanceNorm(std::int64_t num_features, InstanceNormConfig config, const char* kind,
               int spatial_dims);

 private:
  std::int64_t features_;
  InstanceNormConfig config_;
  const char* kind_;
  int spatial_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

/// Over (N, C, L) or (C, L).
class InstanceNorm1d : public InstanceNorm {
 public:
  /// A layer for num_features channels.
  explicit InstanceNorm1d(std::int64_t num_features, InstanceNormConfig config = {})
      : InstanceNorm(num_features, config, "InstanceNorm1d", 1) {}
};

/// Over (N, C, H, W) or (C, H, W).
class InstanceNorm2d : public InstanceNorm {
 public:
  /// A layer for num_features channels.
  explicit InstanceNorm2d(std::int64_t num_features, InstanceNormConfig config = {})
      : InstanceNorm(num_features, config, "InstanceNorm2d", 2) {}
};

}  // namespace tapegrad::nn
