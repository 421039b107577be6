// The cyclical and one-cycle policies, with PyTorch's semantics (torch.optim.lr_scheduler, 1.13):
// stepped once per batch, each computes its lr from the step count alone, and cycles the
// momentum the optimizer declares (Optimizer::cycled_momentum) inversely.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

/// CyclicLR's options, as torch's CyclicLR arguments (defaults included).
struct CyclicLROptions {
  double step_size_up = 2000;                 ///< steps from base_lr up to max_lr
  std::optional<double> step_size_down = {};  ///< steps back down; unset: step_size_up
  /// How each cycle's amplitude scales: constant, halved every cycle, or gamma^step.
  enum class Mode { Triangular, Triangular2, ExpRange } mode = Mode::Triangular;
  /// \var mode
  /// The scaling in use; scale_fn, when set, replaces it.
  double gamma = 1;  ///< ExpRange's factor
  /// A scaling of one's own, replacing mode: called with the cycle number (from 1) or, with
  /// ScaleMode::Iterations, the step count.
  std::function<double(double)> scale_fn = {};
  /// What scale_fn is called with: the cycle number or the step count.
  enum class ScaleMode { Cycle, Iterations } scale_mode = ScaleMode::Cycle;  ///< scale_fn's input
  /// Cycle the momentum inversely, between max_momentum (at base_lr) and base_momentum (at
  /// max_lr); the optimizer must declare one (Optimizer::cycled_momentum).
  bool cycle_momentum = true;
  /// The momentum at max_lr, the cycle's low point.
  double base_momentum = 0.8, max_momentum = 0.9;  ///< the momentum at base_lr, the high point
  /// torch's resume argument (LRScheduler::initial_step); the lrs and momenta are then the
  /// optimizer's, as loaded.
  std::int64_t last_epoch = -1;
};

/// The cyclical learning rate policy (Smith 2017), stepped once per batch: lr goes linearly from
/// base_lr to max_lr over step_size_up steps and back over step_size_down, the amplitude
/// scaled per mode. Sets each group's lr to its base_lr on construction.
/// Unlike torch 1.13, whose CyclicLR cycles only a `momentum` option, the Adam family's beta1
/// is cycled too (as later torch versions do, and as 1.13's OneCycleLR does); and resumed with
/// last_epoch, base_momentum stays the argument, where 1.13 takes the momentum the cycle left.
class CyclicLR : public LRScheduler {
 public:
  /// The options, CyclicLROptions.
  using Options = CyclicLROptions;
  /// One base_lr and max_lr per group.
  CyclicLR(Optimizer& opt, std::vector<double> base_lr, std::vector<double> max_lr, Options o = {});
  /// The same base_lr and max_lr for every group.
  CyclicLR(Optimizer& opt, double base_lr, double max_lr, Options o = {});

 protected:
  std::vector<double> get_lr() override;

 private:
  double scale(double cycle) const;
  std::vector<double> max_lrs_;
  Options o_;
  double total_, step_ratio_;
};

/// OneCycleLR's options, as torch's OneCycleLR arguments (defaults included).
struct OneCycleLROptions {
  double pct_start = 0.3;  ///< the share of the steps spent rising
  /// How the lr moves within a phase: along a cosine, or linearly.
  enum class Anneal { Cos, Linear } anneal_strategy = Anneal::Cos;  ///< the annealing curve
  /// Cycle the momentum inversely, from max_momentum down to base_momentum while the lr rises
  /// and back; the optimizer must declare one (SGD's and RMSprop's momentum, the Adam family's
  /// beta1: Optimizer::cycled_momentum).
  bool cycle_momentum = true;
  /// The momentum at max_lr, the low point.
  double base_momentum = 0.85, max_momentum = 0.95;  ///< the momentum at the start and the end
  double div_factor = 25;                            ///< the starting lr is max_lr / div_factor
  double final_div_factor = 1e4;  ///< the last lr is the starting lr / final_div_factor
  /// Three phases (up, back down to the starting lr, then down to the last) instead of two.
  bool three_phase = false;
  /// torch's resume argument (LRScheduler::initial_step); the initial lrs and momenta are then
  /// the optimizer's, as loaded.
  std::int64_t last_epoch = -1;
};

/// The 1cycle policy (Smith & Topin 2018), stepped once per batch for total_steps steps (epochs
/// x batches per epoch): the lr rises from max_lr / div_factor to max_lr over pct_start of the
/// steps, then anneals to max_lr / div_factor / final_div_factor. Stepping past total_steps
/// is an error, as in torch. At step total_steps itself, which a loop stepping after every
/// batch reaches but trains nothing with, torch extrapolates the last phase (to a negative lr
/// with linear annealing); tapegrad holds the last lr.
class OneCycleLR : public LRScheduler {
 public:
  /// The options, OneCycleLROptions.
  using Options = OneCycleLROptions;
  /// One max_lr per group (finite and >= 0) over total_steps >= 1 steps; ValueError naming a bad
  /// argument or option. Sets each group's lr to max_lr / div_factor.
  OneCycleLR(Optimizer& opt, std::vector<double> max_lr, std::int64_t total_steps, Options o = {});
  /// The same max_lr for every group.
  OneCycleLR(Optimizer& opt, double max_lr, std::int64_t total_steps, Options o = {});
  void step() override;
  /// The number of steps the schedule covers.
  std::int64_t total_steps() const { return total_; }

 protected:
  std::vector<double> get_lr() override;

 private:
  struct Phase {
    double end_step;
    int start_lr, end_lr;  // 0: the starting lr, 1: max_lr, 2: the last lr
    double start_m, end_m;
  };
  double anneal(double start, double end, double pct) const;
  std::vector<double> max_lrs_;
  std::int64_t total_;
  Options o_;
  std::vector<Phase> phases_;
};

}  // namespace tapegrad::optim
