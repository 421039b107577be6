// Rprop: resilient backpropagation, steps by the sign of the gradient with a per-element step
// size (torch.optim.Rprop, 1.13). Reference: Riedmiller & Braun 1993.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// Rprop's options, as torch's (defaults included).
struct RpropOptions {
  double lr = 1e-2;  ///< every element's first step size; later changes of lr do not reach it
  std::pair<double, double> etas = {0.5, 1.2};          ///< (shrink, grow) factors
  std::pair<double, double> step_sizes = {1e-6, 50.0};  ///< (min, max) step size
  bool maximize = false;  ///< maximize the objective: the gradient's sign flipped
};

/// Per element, with g the gradient (negated to maximize) and g' the one kept from the last
/// step: s *= eta_plus where g g' > 0, eta_minus where g g' < 0; s = clamp(s, min, max). Where
/// the sign flipped, g counts as 0 (no step, and no flip next time); then p -= sign(g) s and
/// g' = g. Like torch, the rule never reads lr after the first step: schedules do not move it.
class Rprop : public OptimizerWith<Rprop, RpropOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "Rprop";
  /// Per-parameter state: prev (g') and step_size (s).
  static std::vector<std::string> buffer_names() { return {"prev", "step_size"}; }
  /// ValueError unless lr >= 0, 0 < eta_minus < 1 < eta_plus and 0 <= min <= max step size.
  static void validate(const RpropOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
