// Activation layers: each forwards to the core op of the same name.
#pragma once
#include <cstdint>
#include <string>

#include "tapegrad/core/ops.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// y = sigmoid(x) = 1 / (1 + e^-x), elementwise.
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sigmoid"; }
};

/// y = tanh(x), elementwise.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Tanh"; }
};

/// y = relu(x) = max(x, 0), elementwise.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "ReLU"; }
};

/// y = leaky_relu(x, negative_slope): x for x > 0, negative_slope x otherwise.
class LeakyReLU : public Module {
 public:
  /// The slope for x <= 0 (torch's default 0.01).
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override;

 private:
  double slope_;
};

/// y = softplus(x, beta, threshold) = log(1 + e^(beta x)) / beta, linear past the threshold.
class Softplus : public Module {
 public:
  /// ValueError unless beta is finite and non-zero and threshold is not NaN.
  explicit Softplus(double beta = 1, double threshold = 20);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Softplus"; }
  std::string extra_repr() const override;

 private:
  double beta_, threshold_;
};

/// y = elu(x, alpha): x for x > 0, alpha (e^x - 1) otherwise.
class ELU : public Module {
 public:
  /// alpha scales the negative side; it must be finite (else ValueError).
  explicit ELU(double alpha = 1);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "ELU"; }
  std::string extra_repr() const override;

 private:
  double alpha_;
};

/// y = gelu(x, approximate) = x Phi(x), Phi the standard normal CDF.
class GELU : public Module {
 public:
  /// Exact (erf) by default, or torch's tanh approximation.
  explicit GELU(GeluApproximate approximate = GeluApproximate::None) : approximate_(approximate) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "GELU"; }
  std::string extra_repr() const override;

 private:
  GeluApproximate approximate_;
};

/// y = silu(x) = x sigmoid(x) (swish).
class SiLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "SiLU"; }
};

/// y = hardtanh(x, min_val, max_val): x limited to [min_val, max_val].
class Hardtanh : public Module {
 public:
  /// The bounds; ValueError if min_val > max_val.
  explicit Hardtanh(double min_val = -1, double max_val = 1);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Hardtanh"; }
  std::string extra_repr() const override;

 private:
  double min_, max_;
};

/// y = relu6(x) = hardtanh(x, 0, 6).
class ReLU6 : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "ReLU6"; }
};

/// y = softmax(x, dim): each slice along dim made positive and summing to 1.
class Softmax : public Module {
 public:
  /// Normalises along dim (negative counts from the end).
  explicit Softmax(std::int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Softmax"; }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim_); }

 private:
  std::int64_t dim_;
};

/// y = log_softmax(x, dim): log-probabilities along dim, computed stably.
class LogSoftmax : public Module {
 public:
  /// Normalises along dim (negative counts from the end).
  explicit LogSoftmax(std::int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "LogSoftmax"; }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim_); }

 private:
  std::int64_t dim_;
};

}  // namespace tapegrad::nn
