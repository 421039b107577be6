// NAdam: Adam with Nesterov momentum and momentum decay (torch.optim.NAdam, 1.13).
// Reference: Dozat 2016.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct NAdamOptions {
  double lr = 2e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;
};

/// d = g + wd p;  mu_t = b1 (1 - 0.5 0.96^(t psi));  P_t = prod mu;  m, v as Adam;
/// p -= lr (1 - mu_t) / (1 - P_t) d / a + lr mu_{t+1} / (1 - P_t mu_{t+1}) m / a,
/// a = sqrt(v / (1 - b2^t)) + eps.
/// P_t mu_{t+1} is the corrected product. torch 1.13's default (single-tensor) path computes
/// P_t mu_t mu_{t+1}, multiplying mu_t in twice (fixed upstream in 2023; 1.13's foreach=True
/// path is already correct): tapegrad matches foreach=True, and differs from 1.13's default by
/// about 1e-3 in the parameters after two steps at lr 0.1 (tests/optim/test_optimizers.cpp).
class NAdam : public OptimizerWith<NAdam, NAdamOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "NAdam";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<NAdamOptions> kCycledMomentum{
      "beta1", [](NAdamOptions& o) -> double& { return o.betas.first; }};
  static std::vector<std::string> buffer_names() { return {"exp_avg", "exp_avg_sq"}; }
  static std::vector<std::string> scalar_names() { return {"mu_product"}; }
  static void validate(const NAdamOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
