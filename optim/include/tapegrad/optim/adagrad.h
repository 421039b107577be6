// Adagrad (torch.optim.Adagrad, 1.13). Reference: Duchi, Hazan & Singer 2011.
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;
};

/// d = g + wd p;  clr = lr / (1 + (t - 1) lr_decay);  sum += d^2;  p -= clr d / (sqrt(sum) + eps).
class Adagrad : public OptimizerWith<Adagrad, AdagradOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "Adagrad";
  static std::vector<std::string> buffer_names() { return {"sum"}; }
  static void validate(const AdagradOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
