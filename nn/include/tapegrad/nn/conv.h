// Convolution layers, laid out as PyTorch's nn.Conv1d / nn.Conv2d so checkpoints and numbers
// line up: weight (out, in / groups, kernel...), bias (out).
#pragma once
#include "tapegrad/core/ops/conv.h"
#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// y = conv2d(x, W, b, options). Initialised as PyTorch does: W kaiming_uniform_(a = sqrt(5)),
/// b uniform in +-1/sqrt(fan_in), fan_in = in / groups * kH * kW; from gen or the global one.
class Conv2d : public Module {
 public:
  /// A layer from in_channels to out_channels with kernel_size (one size or {kH, kW}); bias false
  /// leaves it out. ValueError for non-positive sizes or channels that groups does not divide.
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
         Conv2dOptions options = {}, bool bias = true, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Conv2d"; }
  std::string extra_repr() const override;
  /// The kernel (out_channels, in_channels / groups, kH, kW).
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  ///< undefined when built without bias

 private:
  std::int64_t in_, out_;
  Size2 kernel_;
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

/// y = conv1d(x, W, b, options) over (N, C, L); initialised as Conv2d.
class Conv1d : public Module {
 public:
  /// A layer from in_channels to out_channels with a kernel of kernel_size; bias false leaves it
  /// out. ValueError for non-positive sizes or channels that groups does not divide.
  Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
         Conv1dOptions options = {}, bool bias = true, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Conv1d"; }
  std::string extra_repr() const override;
  /// The kernel (out_channels, in_channels / groups, kernel_size).
  const Tensor& weight() const { return weight_; }
  /// The bias (out_channels); undefined when built without bias.
  const Tensor& bias() const { return bias_; }

 private:
  std::int64_t in_, out_, kernel_;
  Conv1dOptions options_;
  Tensor weight_, bias_;
};

}  // namespace tapegrad::nn
