// ASGD: SGD that also keeps a running average of the iterates (torch.optim.ASGD, 1.13).
// Reference: Polyak & Juditsky 1992.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct ASGDOptions {
  double lr = 1e-2;
  double lambd = 1e-4;  ///< decay term
  double alpha = 0.75;  ///< power of the eta schedule
  double t0 = 1e6;      ///< the step after which averaging starts
  double weight_decay = 0;
  bool maximize = false;
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
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "ASGD";
  static std::vector<std::string> buffer_names() { return {"ax"}; }
  static std::vector<std::string> scalar_names() { return {"eta", "mu"}; }
  static void validate(const ASGDOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
