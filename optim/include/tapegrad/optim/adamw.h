// AdamW: Adam with decoupled weight decay (torch.optim.AdamW, 1.13).
// Reference: Loshchilov & Hutter 2019.
#pragma once
#include "tapegrad/optim/adam.h"

namespace tapegrad::optim {

/// AdamW's options: weight decay applied to the weight directly, 1e-2 by default.
using AdamWOptions = AdamFamilyOptions<WeightDecay::Decoupled>;

/// p *= 1 - lr wd; then Adam's update with d = g (no decay in the gradient).
class AdamW : public OptimizerWith<AdamW, AdamWOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "AdamW";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<AdamWOptions> kCycledMomentum{
      "beta1", [](AdamWOptions& o) -> double& { return o.betas.first; }};
  /// Per-parameter state: the same as Adam's.
  static std::vector<std::string> buffer_names() { return Adam::buffer_names(); }
  /// ValueError unless lr, eps and weight_decay are >= 0 and both betas in [0, 1).
  static void validate(const AdamWOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
