// L-BFGS (torch.optim.LBFGS, 1.13): a quasi-Newton method for full-batch problems, optionally
// with a strong-Wolfe line search. Reference: Nocedal & Wright, Numerical Optimization, ch. 7;
// torch's port of minFunc.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

struct LBFGSOptions {
  double lr = 1;
  std::int64_t max_iter = 20;       ///< iterations per step()
  std::int64_t max_eval = -1;       ///< closure evaluations per step(); -1: max_iter * 5 / 4
  double tolerance_grad = 1e-7;     ///< stop once every |gradient element| is at most this
  double tolerance_change = 1e-9;   ///< stop once the loss or the step changes less
  std::int64_t history_size = 100;  ///< curvature pairs kept
  enum class LineSearch { None, StrongWolfe } line_search = LineSearch::None;
};

/// Each step(closure) runs up to max_iter iterations: the direction is -H g, H the two-loop
/// L-BFGS product over the last history_size pairs (s = the step, y = the gradient's change,
/// kept when y.s > 1e-10); the first iteration ever goes along -g with step min(1, 1/|g|_1) lr.
/// With LineSearch::StrongWolfe the step length satisfies the strong Wolfe conditions (c1 1e-4,
/// c2 0.9, at most 25 evaluations); otherwise it is lr. One parameter group only. The
/// arithmetic is in double whatever the parameters' dtype (torch's is in theirs), so float64
/// runs match torch's and float32 ones are slightly more precise; the history costs
/// 2 x history_size x 8 bytes per parameter element.
class LBFGS : public OptimizerWith<LBFGS, LBFGSOptions, Optimizer> {
 public:
  explicit LBFGS(const std::vector<Tensor>& params, LBFGSOptions options = {});
  explicit LBFGS(const NamedParams& params, LBFGSOptions options = {});
  ~LBFGS() override;
  static constexpr const char* kName = "LBFGS";
  static std::vector<std::string> buffer_names() { return {}; }
  static void validate(const LBFGSOptions& o);

  /// Refused: L-BFGS evaluates the loss several times a step; use step(closure).
  void step() override;
  Tensor step(const Closure& closure) override;
  /// Closure evaluations and iterations over all steps so far (torch's state["func_evals"]
  /// and state["n_iter"]), and the curvature pairs held.
  std::int64_t func_evals() const;
  std::int64_t n_iter() const;
  std::size_t history_length() const;

  /// The base's entries, then the iteration state under "<prefix>lbfgs.".
  void save_state(Archive& ar, const std::string& prefix = "optim.") const override;
  std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                          const std::string& prefix = "optim.") const override;
  void apply_state(LoadedState& state) override;

  struct State;  // flat vectors over all parameters (lbfgs.cpp)

 private:
  std::unique_ptr<State> read(const Archive& ar, const std::string& prefix) const;
  std::unique_ptr<State> s_;
};

}  // namespace tapegrad::optim
