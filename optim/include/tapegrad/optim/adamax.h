// Adamax: Adam with the infinity norm (torch.optim.Adamax, 1.13). Reference: Kingma & Ba 2015.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct AdamaxOptions {
  double lr = 2e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool maximize = false;
};

/// d = g + wd p;  m = b1 m + (1 - b1) d;  u = max(b2 u, |d| + eps);  p -= lr / (1 - b1^t) m / u.
class Adamax : public OptimizerWith<AdamaxOptions> {
 public:
  Adamax(const std::vector<Tensor>& params, AdamaxOptions options = {});
  Adamax(const NamedParams& params, AdamaxOptions options = {});
  std::string name() const override { return "Adamax"; }

 protected:
  void validate(const AdamaxOptions& o) const override;
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
