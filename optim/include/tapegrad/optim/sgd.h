// SGD with momentum, dampening, Nesterov momentum, weight decay (torch.optim.SGD, 1.13).
// Batch, stochastic and mini-batch gradient descent are all this optimizer: the DataLoader's
// batch size (the whole set, one sample, or a few) decides which.
// References: Polyak 1964 (momentum); Sutskever et al. 2013 (Nesterov, in PyTorch's form).
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct SGDOptions {
  double lr = -1;  ///< required, as in PyTorch: there is no default
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
};

/// d = g + wd p;  b = d on the first step, else mu b + (1 - dampening) d;
/// d = d + mu b (nesterov) or b;  p -= lr d.
class SGD : public OptimizerWith<SGD, SGDOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "SGD";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<SGDOptions> kCycledMomentum{
      "momentum", [](SGDOptions& o) -> double& { return o.momentum; }};
  static std::vector<std::string> buffer_names() { return {"momentum_buffer"}; }
  static void validate(const SGDOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
