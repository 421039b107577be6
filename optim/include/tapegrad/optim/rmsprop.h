// RMSprop (torch.optim.RMSprop, 1.13). Reference: Hinton, Coursera lecture 6e, 2012;
// the centered form from Graves 2013.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
};

/// d = g + wd p;  v = alpha v + (1 - alpha) d^2;
/// centered: m = alpha m + (1 - alpha) d,  a = sqrt(v - m^2) + eps;  else a = sqrt(v) + eps;
/// momentum: b = mu b + d / a,  p -= lr b;  else p -= lr d / a.
class RMSprop : public OptimizerWith<RMSprop, RMSpropOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "RMSprop";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<RMSpropOptions> kCycledMomentum{
      "momentum", [](RMSpropOptions& o) -> double& { return o.momentum; }};
  static std::vector<std::string> buffer_names() {
    return {"square_avg", "grad_avg", "momentum_buffer"};
  }
  static void validate(const RMSpropOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
