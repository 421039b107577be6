// AdamW: Adam with decoupled weight decay (torch.optim.AdamW, 1.13).
// Reference: Loshchilov & Hutter 2019.
#pragma once
#include "tapegrad/optim/adam.h"

namespace tapegrad::optim {

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  ///< applied to p directly, before the Adam step
  bool amsgrad = false;
  bool maximize = false;
};

/// p *= 1 - lr wd; then Adam's update with d = g (no decay in the gradient).
class AdamW : public OptimizerWith<AdamWOptions> {
 public:
  AdamW(const std::vector<Tensor>& params, AdamWOptions options = {});
  AdamW(const NamedParams& params, AdamWOptions options = {});
  std::string name() const override { return "AdamW"; }

 protected:
  void validate(const AdamWOptions& o) const override;
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
