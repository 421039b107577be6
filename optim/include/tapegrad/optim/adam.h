// Adam and AMSGrad (torch.optim.Adam, 1.13). References: Kingma & Ba 2015; Reddi et al. 2018.
#pragma once
#include <utility>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;  ///< L2 penalty added to the gradient (AdamW decouples it)
  bool amsgrad = false;
  bool maximize = false;
};

/// d = g + wd p;  m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2;  (amsgrad: vmax = max(vmax, v))
/// p -= lr / (1 - b1^t) m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps).
class Adam : public OptimizerWith<AdamOptions> {
 public:
  Adam(const std::vector<Tensor>& params, AdamOptions options = {});
  Adam(const NamedParams& params, AdamOptions options = {});
  std::string name() const override { return "Adam"; }

 protected:
  void validate(const AdamOptions& o) const override;
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
