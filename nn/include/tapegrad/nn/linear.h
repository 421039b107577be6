// Fully connected layer, laid out as PyTorch's nn.Linear so checkpoints and numbers line up.
#pragma once
#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// y = x W^T + b.   x: (B, n_in) -> y: (B, n_out).   W: (n_out, n_in), b: (n_out).
/// Initialised as PyTorch does: W and b uniform in +-1/sqrt(n_in) (kaiming_uniform_ with
/// a = sqrt(5) for W), drawn from gen or the global generator.
class Linear : public Module {
 public:
  /// A layer from n_in to n_out features (both positive, else ValueError); bias false leaves b
  /// out.
  Linear(std::int64_t n_in, std::int64_t n_out, bool bias = true, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Linear"; }
  std::string extra_repr() const override;
  /// W (n_out, n_in).
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  ///< undefined when built without bias

 private:
  std::int64_t n_in_, n_out_;
  Tensor weight_;  // (n_out, n_in)
  Tensor bias_;    // (n_out)
};

}  // namespace tapegrad::nn
