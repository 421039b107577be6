// Pooling layers (PyTorch's nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d):
// no parameters, the options of the functions in tapegrad/core/ops/pool.h.
#pragma once
#include "tapegrad/core/ops/pool.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// y = max_pool2d(x, options): the largest value of each window.
class MaxPool2d : public Module {
 public:
  /// A layer with options' window, stride, padding, dilation and rounding.
  explicit MaxPool2d(MaxPool2dOptions options) : o_(options) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, o_); }
  std::string name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;

 private:
  MaxPool2dOptions o_;
};

/// y = avg_pool2d(x, options): the mean of each window.
class AvgPool2d : public Module {
 public:
  /// A layer with options' window, stride, padding, rounding and divisor.
  explicit AvgPool2d(AvgPool2dOptions options) : o_(options) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, o_); }
  std::string name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;

 private:
  AvgPool2dOptions o_;
};

/// y = adaptive_avg_pool2d(x, output_size): means over windows chosen to give that size.
class AdaptiveAvgPool2d : public Module {
 public:
  /// output_size: (Ho, Wo), or one number for both.
  explicit AdaptiveAvgPool2d(Size2 output_size) : size_(output_size) {}
  Tensor forward(const Tensor& x) override { return adaptive_avg_pool2d(x, size_); }
  std::string name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override;

 private:
  Size2 size_;
};

/// y = adaptive_max_pool2d(x, output_size): maxima over windows chosen to give that size.
class AdaptiveMaxPool2d : public Module {
 public:
  /// output_size: (Ho, Wo), or one number for both.
  explicit AdaptiveMaxPool2d(Size2 output_size) : size_(output_size) {}
  Tensor forward(const Tensor& x) override { return adaptive_max_pool2d(x, size_); }
  std::string name() const override { return "AdaptiveMaxPool2d"; }
  std::string extra_repr() const override;

 private:
  Size2 size_;
};

}  // namespace tapegrad::nn
