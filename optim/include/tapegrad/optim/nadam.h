// NAdam: Adam with Nesterov momentum and momentum decay (torch.optim.NAdam, 1.13).
// Reference: Dozat 2016.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// NAdam's options, as torch's 1.13 (defaults included; there is no maximize).
struct NAdamOptions {
  double lr = 2e-3;                                ///< learning rate
  std::pair<double, double> betas = {0.9, 0.999};  ///< (b1, b2): rates of m and v, in [0, 1)
  double eps = 1e-8;             ///< added to the denominator for numerical stability
  double weight_decay = 0;       ///< L2 penalty wd in d = g + wd p
  double momentum_decay = 4e-3;  ///< psi: how fast the momentum's weight mu_t approaches b1
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
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "NAdam";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<NAdamOptions> kCycledMomentum{
      "beta1", [](NAdamOptions& o) -> double& { return o.betas.first; }};
  /// Per-parameter state: exp_avg (m) and exp_avg_sq (v).
  static std::vector<std::string> buffer_names() { return {"exp_avg", "exp_avg_sq"}; }
  /// Per-parameter numbers: mu_product (P_t).
  static std::vector<std::string> scalar_names() { return {"mu_product"}; }
  /// ValueError unless lr, eps, weight_decay and momentum_decay are >= 0 and both betas in [0, 1).
  static void validate(const NAdamOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
