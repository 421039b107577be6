// ASGD: SGD that also keeps a running average of the iterates (torch.optim.ASGD, 1.13).
// Reference: Polyak & Juditsky 1992.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// ASGD's options, as torch's (defaults included).
struct ASGDOptions {
  double lr = 1e-2;         ///< learning rate: eta's first value
  double lambd = 1e-4;      ///< decay term
  double alpha = 0.75;      ///< power of the eta schedule
  double t0 = 1e6;          ///< the step after which averaging starts
  double weight_decay = 0;  ///< L2 penalty wd in d = g + wd p
  bool maximize = false;    ///< maximize the objective: the gradient's sign flipped
};

/// Per parameter, with eta = lr and mu = 1 at the first step: d = g + wd p (g negated to
/// maximize); p = p (1 - lambd eta) - eta d; ax = p while mu is 1, else ax += mu (p - ax);
/// then eta = lr / (1 + lambd lr t)^alpha and mu = 1 / max(1, t - t0).
/// The average is the buffer "ax": state(i).buffers[0] for the parameter of flat index i, as
/// torch's state[p]["ax"], undefined until the parameter's first step.
/// eta and mu are doubles; torch 1.13 keeps them as tensors of its default dtype, so to compare
/// float64 runs with torch set torch.set_default_dtype(torch.float64).
class ASGD : public OptimizerWith<ASGD, ASGDOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "ASGD";
  /// Per-parameter state: ax, the average of the iterates.
  static std::vector<std::string> buffer_names() { return {"ax"}; }
  /// Per-parameter numbers: eta (the current step size) and mu (the averaging weight).
  static std::vector<std::string> scalar_names() { return {"eta", "mu"}; }
  /// ValueError unless every number is >= 0.
  static void validate(const ASGDOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
