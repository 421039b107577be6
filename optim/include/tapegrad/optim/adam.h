// Adam and AMSGrad (torch.optim.Adam, 1.13). References: Kingma & Ba 2015; Reddi et al. 2018.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// Where Adam's weight decay goes: into the gradient as an L2 term (Adam), or onto the weight
/// directly (AdamW).
enum class WeightDecay { L2, Decoupled };

/// The options of Adam and AdamW, which differ only in weight decay: where it goes, and its
/// default (0 for Adam, 1e-2 for AdamW, as in torch).
template <WeightDecay kDecay>
struct AdamFamilyOptions {
  double lr = 1e-3;  ///< learning rate
  /// (b1, b2): decay rates of the averages of the gradient and of its square, each in [0, 1).
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;  ///< added to the denominator for numerical stability
  /// Adam: the L2 penalty wd in d = g + wd p. AdamW: the decay p *= 1 - lr wd.
  double weight_decay = kDecay == WeightDecay::Decoupled ? 1e-2 : 0;
  bool amsgrad = false;   ///< AMSGrad: divide by the largest v so far (vmax) instead of v
  bool maximize = false;  ///< maximize the objective: the gradient's sign flipped
};
/// Adam's options: weight decay as an L2 term in the gradient, 0 by default.
using AdamOptions = AdamFamilyOptions<WeightDecay::L2>;

/// d = g + wd p;  m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2;  (amsgrad: vmax = max(vmax, v))
/// p -= lr / (1 - b1^t) m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps).
class Adam : public OptimizerWith<Adam, AdamOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "Adam";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<AdamOptions> kCycledMomentum{
      "beta1", [](AdamOptions& o) -> double& { return o.betas.first; }};
  /// Per-parameter state: exp_avg (m), exp_avg_sq (v) and max_exp_avg_sq (vmax, amsgrad only).
  static std::vector<std::string> buffer_names() {
    return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  }
  /// ValueError unless lr, eps and weight_decay are >= 0 and both betas in [0, 1).
  static void validate(const AdamOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
