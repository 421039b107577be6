// L-BFGS (torch.optim.LBFGS, 1.13): a quasi-Newton method for full-batch problems, optionally
// with a strong-Wolfe line search. Reference: Nocedal & Wright, Numerical Optimization, ch. 7;
// torch's port of minFunc.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// L-BFGS's options, as torch's (defaults included).
struct LBFGSOptions {
  double lr = 1;                    ///< the step length, or the line search's first trial length
  std::int64_t max_iter = 20;       ///< iterations per step()
  std::int64_t max_eval = -1;       ///< closure evaluations per step(); -1: max_iter * 5 / 4
  double tolerance_grad = 1e-7;     ///< stop once every |gradient element| is at most this
  double tolerance_change = 1e-9;   ///< stop once the loss or the step changes less
  std::int64_t history_size = 100;  ///< curvature pairs kept
  /// How the step length is chosen: lr as it is, or a strong-Wolfe line search.
  enum class LineSearch { None, StrongWolfe } line_search = LineSearch::None;
  /// \var line_search
  /// The line search step() uses (None by default, as torch's).
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
  /// One group of params with options; ValueError naming a bad option.
  explicit LBFGS(const std::vector<Tensor>& params, LBFGSOptions options = {});
  /// The same, with named parameters (as named_parameters() gives them).
  explicit LBFGS(const NamedParams& params, LBFGSOptions options = {});
  ~LBFGS() override;
  /// Its name in messages and checkpoints.
  static constexpr const char* kName = "LBFGS";
  /// No per-parameter state: the iteration state covers all parameters at once.
  static std::vector<std::string> buffer_names() { return {}; }
  /// ValueError unless lr > 0, max_iter and history_size >= 1, max_eval >= 1 (or -1) and both
  /// tolerances >= 0.
  static void validate(const LBFGSOptions& o);

  /// Refused: L-BFGS evaluates the loss several times a step; use step(closure).
  void step() override;
  Tensor step(const Closure& closure) override;
  /// Closure evaluations over all steps so far (torch's state["func_evals"]).
  std::int64_t func_evals() const;
  /// Iterations over all steps so far (torch's state["n_iter"]).
  std::int64_t n_iter() const;
  /// Curvature pairs held now (at most history_size).
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
