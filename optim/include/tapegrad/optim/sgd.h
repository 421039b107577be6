// SGD with momentum, dampening, Nesterov momentum, weight decay (torch.optim.SGD, 1.13).
// Batch, stochastic and mini-batch gradient descent are all this optimizer: the DataLoader's
// batch size (the whole set, one sample, or a few) decides which.
// References: Polyak 1964 (momentum); Sutskever et al. 2013 (Nesterov, in PyTorch's form).
#pragma once
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// SGD's options, as torch's; lr has no default and must be set.
struct SGDOptions {
  double lr = -1;           ///< required, as in PyTorch: there is no default
  double momentum = 0;      ///< mu (0: plain SGD, no momentum buffer)
  double dampening = 0;     ///< scales down the gradient's share of the momentum
  double weight_decay = 0;  ///< L2 penalty wd in d = g + wd p
  bool nesterov = false;    ///< Nesterov momentum (needs momentum > 0 and dampening 0)
  bool maximize = false;    ///< maximize the objective: the gradient's sign flipped
};

/// d = g + wd p;  b = d on the first step, else mu b + (1 - dampening) d;
/// d = d + mu b (nesterov) or b;  p -= lr d.
class SGD : public OptimizerWith<SGD, SGDOptions> {
 public:
  /// Takes the parameters (a list, or named as named_parameters() gives them) and their options.
  using OptimizerWith::OptimizerWith;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "SGD";
  /// What CyclicLR and OneCycleLR cycle (torch's cycle_momentum).
  static constexpr CycledMomentum<SGDOptions> kCycledMomentum{
      "momentum", [](SGDOptions& o) -> double& { return o.momentum; }};
  /// Per-parameter state: momentum_buffer (b; only with momentum).
  static std::vector<std::string> buffer_names() { return {"momentum_buffer"}; }
  /// ValueError unless lr (which must be set), momentum and weight_decay are >= 0 and nesterov
  /// has momentum > 0 and dampening 0.
  static void validate(const SGDOptions& o);

 protected:
  void update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& g) override;
};

}  // namespace tapegrad::optim
