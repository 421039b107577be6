// Adadelta (torch.optim.Adadelta, 1.13). Reference: Zeiler 2012.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
  bool maximize = false;
};

/// d = g + wd p;  v = rho v + (1 - rho) d^2;  delta = sqrt(u + eps) / sqrt(v + eps) d;
/// u = rho u + (1 - rho) delta^2;  p -= lr delta.
class Adadelta : public OptimizerWith<Adadelta, AdadeltaOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "Adadelta";
  static std::vector<std::string> buffer_names() { return {"square_avg", "acc_delta"}; }
  static void validate(const AdadeltaOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
