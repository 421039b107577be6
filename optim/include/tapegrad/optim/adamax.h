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
class Adamax : public OptimizerWith<Adamax, AdamaxOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "Adamax";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<AdamaxOptions> kCycledMomentum{
      "beta1", [](AdamaxOptions& o) -> double& { return o.betas.first; }};
  static std::vector<std::string> buffer_names() { return {"exp_avg", "exp_inf"}; }
  static void validate(const AdamaxOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
