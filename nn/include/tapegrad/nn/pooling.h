// Pooling layers (PyTorch's nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d):
// no parameters, the options of the functions in tapegrad/core/ops/pool.h.
#pragma once
#include "tapegrad/core/ops/pool.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(MaxPool2dOptions options) : o_(options) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, o_); }
  std::string name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;

 private:
  MaxPool2dOptions o_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(AvgPool2dOptions options) : o_(options) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, o_); }
  std::string name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;

 private:
  AvgPool2dOptions o_;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : size_(output_size) {}
  Tensor forward(const Tensor& x) override { return adaptive_avg_pool2d(x, size_); }
  std::string name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override;

 private:
  Size2 size_;
};

class AdaptiveMaxPool2d : public Module {
 public:
  explicit AdaptiveMaxPool2d(Size2 output_size) : size_(output_size) {}
  Tensor forward(const Tensor& x) override { return adaptive_max_pool2d(x, size_); }
  std::string name() const override { return "AdaptiveMaxPool2d"; }
  std::string extra_repr() const override;

 private:
  Size2 size_;
};

}  // namespace tapegrad::nn
