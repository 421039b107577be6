// Batch normalisation layers (PyTorch's nn.BatchNorm1d / BatchNorm2d / BatchNorm3d): weight (1) and
// bias (0) per channel, and the buffers running_mean, running_var and num_batches_tracked, named as
// torch's so state dicts read the same.
#pragma once
#include <optional>

#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// BatchNorm's settings, as torch's BatchNorm arguments.
struct BatchNormConfig {
  double eps = 1e-5;  ///< added to the variance before its square root (> 0)
  /// running = (1 - momentum) running + momentum batch; nullopt: the cumulative average over
  /// the batches seen (factor 1 / num_batches_tracked), as torch's momentum=None.
  std::optional<double> momentum = 0.1;
  bool affine = true;               ///< learn weight and bias
  bool track_running_stats = true;  ///< keep running statistics (else batch ones in eval too)
};

/// The base of the batch norm layers: each channel normalised by batch statistics in training
/// and by running ones in evaluation, then scaled and shifted per channel.
class BatchNorm : public Module {
 public:
  /// Training: batch statistics, running ones updated. Evaluation: the running ones.
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  /// Per-channel scale (C), initialised to 1; undefined without affine.
  const Tensor& weight() const { return weight_; }
  /// Per-channel shift (C), initialised to 0; undefined without affine.
  const Tensor& bias() const { return bias_; }
  /// Buffer: the running mean per channel (C), from 0; undefined without track_running_stats.
  const Tensor& running_mean() const { return running_mean_; }
  /// Buffer: the running variance per channel (C), from 1; undefined without
  /// track_running_stats.
  const Tensor& running_var() const { return running_var_; }
  /// Buffer: int64 0-d count of training batches seen; undefined without track_running_stats.
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 protected:
  /// kind names the layer in messages; inputs must have min_rank to max_rank dims. ValueError for
  /// num_features < 1, eps <= 0 or a momentum outside [0, 1].
  BatchNorm(std::int64_t num_features, BatchNormConfig config, const char* kind, int min_rank,
            int max_rank);

 private:
  std::int64_t features_;
  BatchNormConfig config_;
  const char* kind_;
  int min_rank_, max_rank_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

/// Over (N, C) or (N, C, L).
class BatchNorm1d : public BatchNorm {
 public:
  /// A layer for num_features channels.
  explicit BatchNorm1d(std::int64_t num_features, BatchNormConfig config = {})
      : BatchNorm(num_features, config, "BatchNorm1d", 2, 3) {}
  std::string name() const override { return "BatchNorm1d"; }
};

/// Over (N, C, H, W).
class BatchNorm2d : public BatchNorm {
 public:
  /// A layer for num_features channels.
  explicit BatchNorm2d(std::int64_t num_features, BatchNormConfig config = {})
      : BatchNorm(num_features, config, "BatchNorm2d", 4, 4) {}
  std::string name() const override { return "BatchNorm2d"; }
};

/// Over (N, C, D, H, W).
class BatchNorm3d : public BatchNorm {
 public:
  /// A layer for num_features channels.
  explicit BatchNorm3d(std::int64_t num_features, BatchNormConfig config = {})
      : BatchNorm(num_features, config, "BatchNorm3d", 5, 5) {}
  std::string name() const override { return "BatchNorm3d"; }
};

}  // namespace tapegrad::nn
