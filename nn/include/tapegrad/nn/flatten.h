// Layers that only reshape or pass through: Flatten, Unflatten and Identity.
#pragma once
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// Flattens dims start_dim..end_dim: (B, 1, 28, 28) -> (B, 784) with the defaults.
class Flatten : public Module {
 public:
  /// Merges dims start_dim to end_dim (negative ones count from the end).
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1)
      : start_(start_dim), end_(end_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Flatten"; }
  std::string extra_repr() const override;

 private:
  std::int64_t start_, end_;
};

/// Splits dim into sizes (one may be -1): (B, 784) -> (B, 1, 28, 28) with Unflatten(1, {1, 28,
/// 28}), what a convolutional network fed flat images starts with.
class Unflatten : public Module {
 public:
  /// Splits dim into sizes, which must be positive but for at most one -1 (else ValueError).
  Unflatten(std::int64_t dim, Shape sizes);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Unflatten"; }
  std::string extra_repr() const override;

 private:
  std::int64_t dim_;
  Shape sizes_;
};

/// y = x: a placeholder where a layer is optional.
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "Identity"; }
};

}  // namespace tapegrad::nn
