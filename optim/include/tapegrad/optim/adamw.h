// AdamW: Adam with decoupled weight decay (torch.optim.AdamW, 1.13).
// Reference: Loshchilov & Hutter 2019.
#pragma once
#include "tapegrad/optim/adam.h"

namespace tapegrad::optim {

using AdamWOptions = AdamFamilyOptions<WeightDecay::Decoupled>;

/// p *= 1 - lr wd; then Adam's update with d = g (no decay in the gradient).
class AdamW : public OptimizerWith<AdamW, AdamWOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "AdamW";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<AdamWOptions> kCycledMomentum{
      "beta1", [](AdamWOptions& o) -> double& { return o.betas.first; }};
  static std::vector<std::string> buffer_names() { return Adam::buffer_names(); }
  static void validate(const AdamWOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
