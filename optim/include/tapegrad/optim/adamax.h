// Adamax: Adam with the infinity norm (torch.optim.Adamax, 1.13). Reference: Kingma & Ba 2015.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// Adamax's options, as torch's (defaults included).
struct AdamaxOptions {
  double lr = 2e-3;  ///< learning rate
  /// (b1, b2): decay rates of m and of the infinity norm u, each in [0, 1).
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;        ///< added to |d| for numerical stability
  double weight_decay = 0;  ///< L2 penalty wd in d = g + wd p
  bool maximize = false;    ///< maximize the objective: the gradient's sign flipped
};

/// d = g + wd p;  m = b1 m + (1 - b1) d;  u = max(b2 u, |d| + eps);  p -= lr / (1 - b1^t) m / u.
class Adamax : public OptimizerWith<Adamax, AdamaxOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "Adamax";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<AdamaxOptions> kCycledMomentum{
      "beta1", [](AdamaxOptions& o) -> double& { return o.betas.first; }};
  /// Per-parameter state: exp_avg (m) and exp_inf (u).
  static std::vector<std::string> buffer_names() { return {"exp_avg", "exp_inf"}; }
  /// ValueError unless lr, eps and weight_decay are >= 0 and both betas in [0, 1).
  static void validate(const AdamaxOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
