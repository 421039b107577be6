// Adadelta (torch.optim.Adadelta, 1.13). Reference: Zeiler 2012.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// Adadelta's options, as torch's (defaults included).
struct AdadeltaOptions {
  double lr = 1.0;          ///< scales delta before it is applied
  double rho = 0.9;         ///< decay rate of both running averages, in [0, 1]
  double eps = 1e-6;        ///< added inside both square roots for numerical stability
  double weight_decay = 0;  ///< L2 penalty wd in d = g + wd p
  bool maximize = false;    ///< maximize the objective: the gradient's sign flipped
};

/// d = g + wd p;  v = rho v + (1 - rho) d^2;  delta = sqrt(u + eps) / sqrt(v + eps) d;
/// u = rho u + (1 - rho) delta^2;  p -= lr delta.
class Adadelta : public OptimizerWith<Adadelta, AdadeltaOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "Adadelta";
  /// Per-parameter state: square_avg (v) and acc_delta (u).
  static std::vector<std::string> buffer_names() { return {"square_avg", "acc_delta"}; }
  /// ValueError unless lr, eps and weight_decay are >= 0 and rho is in [0, 1].
  static void validate(const AdadeltaOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
