// RAdam: Adam with its adaptive step rectified while the second moment is too young to trust
// (torch.optim.RAdam, 1.13). Reference: Liu et al. 2020.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// RAdam's options, as torch's 1.13 (defaults included; there is no maximize).
struct RAdamOptions {
  double lr = 1e-3;                                ///< learning rate
  std::pair<double, double> betas = {0.9, 0.999};  ///< (b1, b2): rates of m and v, in [0, 1)
  double eps = 1e-8;                               ///< added to sqrt(v) for numerical stability
  double weight_decay = 0;                         ///< L2 penalty wd in d = g + wd p
};

/// d = g + wd p;  m, v as Adam;  rho_inf = 2 / (1 - b2) - 1;
/// rho_t = rho_inf - 2 t b2^t / (1 - b2^t). While rho_t <= 5, p -= lr m / (1 - b1^t) (momentum
/// SGD); after, p -= lr r_t m / (1 - b1^t) sqrt(1 - b2^t) / (sqrt(v) + eps), with
/// r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).
/// eps is added to sqrt(v) before the bias correction, unlike Adam's.
class RAdam : public OptimizerWith<RAdam, RAdamOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "RAdam";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<RAdamOptions> kCycledMomentum{
      "beta1", [](RAdamOptions& o) -> double& { return o.betas.first; }};
  /// Per-parameter state: exp_avg (m) and exp_avg_sq (v).
  static std::vector<std::string> buffer_names() { return {"exp_avg", "exp_avg_sq"}; }
  /// ValueError unless lr, eps and weight_decay are >= 0 and both betas in [0, 1).
  static void validate(const RAdamOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
