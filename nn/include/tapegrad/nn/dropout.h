// Dropout (inverted): zeroes each element (Dropout) or each whole channel (Dropout2d) with
// probability p while training and scales the rest by 1/(1-p), so evaluation (where it is the
// identity) needs no rescaling.
#pragma once
#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// Zeroes each element with probability p while training and scales the rest by 1 / (1 - p);
/// the identity in evaluation (torch's Dropout).
class Dropout : public Module {
 public:
  /// p in [0, 1]; masks are drawn from gen, or the global generator.
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Dropout"; }
  std::string extra_repr() const override;

 private:
  double p_;
  Generator* gen_;
};

/// Zeroes whole channels of (N, C, H, W) or (C, H, W) inputs (torch's Dropout2d): neighbouring
/// pixels are correlated, so dropping single ones regularises little.
class Dropout2d : public Module {
 public:
  /// p in [0, 1] (else ValueError); masks are drawn from gen, or the global generator.
  explicit Dropout2d(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Dropout2d"; }
  std::string extra_repr() const override;

 private:
  double p_;
  Generator* gen_;
};

}  // namespace tapegrad::nn
