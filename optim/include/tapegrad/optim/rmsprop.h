// RMSprop (torch.optim.RMSprop, 1.13). Reference: Hinton, Coursera lecture 6e, 2012;
// the centered form from Graves 2013.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// RMSprop's options, as torch's (defaults included).
struct RMSpropOptions {
  double lr = 1e-2;         ///< learning rate
  double alpha = 0.99;      ///< smoothing constant of the running averages
  double eps = 1e-8;        ///< added to the root for numerical stability
  double weight_decay = 0;  ///< L2 penalty wd in d = g + wd p
  double momentum = 0;      ///< mu (0: no momentum buffer)
  bool centered = false;    ///< divide by the estimated variance v - m^2 instead of v
  bool maximize = false;    ///< maximize the objective: the gradient's sign flipped
};

/// d = g + wd p;  v = alpha v + (1 - alpha) d^2;
/// centered: m = alpha m + (1 - alpha) d,  a = sqrt(v - m^2) + eps;  else a = sqrt(v) + eps;
/// momentum: b = mu b + d / a,  p -= lr b;  else p -= lr d / a.
class RMSprop : public OptimizerWith<RMSprop, RMSpropOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "RMSprop";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<RMSpropOptions> kCycledMomentum{
      "momentum", [](RMSpropOptions& o) -> double& { return o.momentum; }};
  /// Per-parameter state: square_avg (v), grad_avg (m, centered only) and momentum_buffer (b,
  /// with momentum only).
  static std::vector<std::string> buffer_names() {
    return {"square_avg", "grad_avg", "momentum_buffer"};
  }
  /// ValueError unless every number is >= 0.
  static void validate(const RMSpropOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
