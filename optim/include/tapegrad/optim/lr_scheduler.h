// The base of every learning-rate schedule, with PyTorch's semantics (torch.optim.lr_scheduler,
// 1.13): the constructor applies epoch 0 (or, given last_epoch k, epoch k + 1, as torch
// resumes), step() advances one epoch (or batch, for the schedules stepped per batch).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/core/io/stateful.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// What checkpoints need from any schedule: the state, saved under "sched." by default, read
/// and checked, then applied (Stateful).
class SchedulerState : public Stateful {
 public:
  using Stateful::save_state;
  /// Saves under "sched.", the prefix a whole-run checkpoint uses.
  void save_state(Archive& ar) const { save_state(ar, "sched."); }
  /// Restores what save_state wrote, all of it or (on a ValueError) nothing.
  void load_state(const Archive& ar, const std::string& prefix = "sched.") {
    Stateful::load_state(ar, prefix);
  }
  /// Throws what load_state would throw for ar, changing nothing.
  void check_state(const Archive& ar, const std::string& prefix = "sched.") const {
    Stateful::check_state(ar, prefix);
  }
};

/// The base of the schedules that set the optimizer's lrs epoch by epoch.
class LRScheduler : public SchedulerState {
 public:
  /// Advances one epoch and sets every group's lr.
  virtual void step();
  /// Jumps to an epoch (PyTorch's step(epoch)), using the closed form where there is one.
  void step_to(std::int64_t epoch);
  /// The lrs the last step set, one per group (torch's get_last_lr).
  std::vector<double> get_last_lr() const { return last_lr_; }
  /// The epoch the last step reached: 0 after a fresh start, then one more per step().
  std::int64_t last_epoch() const { return last_epoch_; }
  /// The optimizer whose learning rates this sets.
  Optimizer& optimizer() const { return opt_; }
  /// last_epoch, base_lrs and last_lr under prefix.
  void save_state(Archive& ar, const std::string& prefix = "sched.") const override;
  std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                          const std::string& prefix = "sched.") const override;
  void apply_state(LoadedState& state) override;

 protected:
  /// Records base_lrs from each group's initial lr (setting it from lr on first use).
  explicit LRScheduler(Optimizer& opt);
  /// The constructor's step (every concrete constructor ends with it: a base constructor cannot
  /// call get_lr), from last_epoch (torch's argument): -1 starts afresh at epoch 0; k >= 0
  /// resumes, taking one chainable step from the groups' current lrs to epoch k + 1, and needs
  /// every group's initial_lr already set (by an optimizer load_state, or an earlier schedule).
  void initial_step(std::int64_t last_epoch, const char* who);
  /// The lrs for last_epoch_ from the current ones (PyTorch's chainable get_lr).
  virtual std::vector<double> get_lr() = 0;
  /// The lrs for last_epoch_ from base_lrs_ alone (torch's closed form); defaults to get_lr for
  /// the schedules that have none.
  virtual std::vector<double> closed_form_lr() { return get_lr(); }
  /// Group g's lr in the optimizer now.
  double current(std::size_t g) const { return opt_.lr(g); }
  /// Sets every group's lr (the optimizer's ValueError for a negative one) and records them as the
  /// last lrs.
  void apply(const std::vector<double>& lrs);

  Optimizer& opt_;                ///< the optimizer whose lrs this sets
  std::vector<double> base_lrs_;  ///< each group's initial lr: where the schedule starts
  std::int64_t last_epoch_ = -1;  ///< the epoch the last step reached (-1 before the first)
  std::vector<double> last_lr_;   ///< the lrs the last step set
  bool had_initial_lrs_ = true;   ///< every group's initial_lr was set before this schedule
  friend class ComposedLR;
  friend class SequentialLR;
};

/// The schedules torch also gives in closed form, each written as that one formula, lr_at: a
/// group's lr at an epoch from its base lr alone. A step applies the formula's change to the
/// current lr, as torch's chainable forms do: while nothing else moves the lr that is the
/// formula's own value, and in a ChainedScheduler the schedules' factors multiply. A jump
/// (step_to, a SequentialLR milestone) sets the formula's value.
class FormulaLR : public LRScheduler {
 protected:
  using LRScheduler::LRScheduler;
  /// Group g's lr at epoch (>= 0) from base_lrs_[g] alone.
  virtual double lr_at(std::size_t g, std::int64_t epoch) const = 0;
  /// The current lr times lr_at(epoch) / lr_at(epoch - 1); lr_at(epoch) itself when the lr is
  /// still the formula's (a lone schedule, exactly), or when the last value was 0.
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;
};

}  // namespace tapegrad::optim
