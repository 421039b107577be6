// Adagrad (torch.optim.Adagrad, 1.13). Reference: Duchi, Hazan & Singer 2011.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// Adagrad's options, as torch's (defaults included).
struct AdagradOptions {
  double lr = 1e-2;                      ///< learning rate
  double lr_decay = 0;                   ///< decays the lr with the step count t, as clr below
  double weight_decay = 0;               ///< L2 penalty wd in d = g + wd p
  double initial_accumulator_value = 0;  ///< what the sum of squared gradients starts from
  double eps = 1e-10;                    ///< added to sqrt(sum) for numerical stability
  bool maximize = false;                 ///< maximize the objective: the gradient's sign flipped
};

/// d = g + wd p;  clr = lr / (1 + (t - 1) lr_decay);  sum += d^2;  p -= clr d / (sqrt(sum) + eps).
class Adagrad : public OptimizerWith<Adagrad, AdagradOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "Adagrad";
  /// Per-parameter state: sum, the running sum of squared gradients.
  static std::vector<std::string> buffer_names() { return {"sum"}; }
  /// ValueError unless every number is >= 0.
  static void validate(const AdagradOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
