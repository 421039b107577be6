// Learning-rate schedules with PyTorch's semantics (torch.optim.lr_scheduler, 1.13): step() once
// per epoch; the constructor applies epoch 0 (or, given last_epoch k, epoch k + 1, as torch
// resumes); values follow PyTorch's (chainable) formulas, so sequences match torch's, including
// CosineAnnealingLR past T_max.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// What checkpoints need from any schedule.
class SchedulerState {
 public:
  virtual ~SchedulerState() = default;
  virtual void save_state(Archive& ar, const std::string& prefix = "sched.") const = 0;
  /// Restores what save_state wrote; checks every entry first and changes nothing on error.
  virtual void load_state(const Archive& ar, const std::string& prefix = "sched.") = 0;
  /// Throws what load_state would throw for ar, changing nothing (for whole-run checkpoints).
  virtual void check_state(const Archive& ar, const std::string& prefix = "sched.") const = 0;
};

/// Base of the epoch-driven schedules.
class LRScheduler : public SchedulerState {
 public:
  /// Advances one epoch and sets every group's lr.
  virtual void step();
  /// Jumps to an epoch (PyTorch's step(epoch)), using the closed form where there is one.
  void step_to(std::int64_t epoch);
  std::vector<double> get_last_lr() const { return last_lr_; }
  std::int64_t last_epoch() const { return last_epoch_; }
  /// The optimizer whose learning rates this sets.
  Optimizer& optimizer() const { return opt_; }
  void save_state(Archive& ar, const std::string& prefix = "sched.") const override;
  void load_state(const Archive& ar, const std::string& prefix = "sched.") override;
  void check_state(const Archive& ar, const std::string& prefix = "sched.") const override;

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
  /// The lrs for last_epoch_ from base_lrs_ alone; defaults to get_lr.
  virtual std::vector<double> closed_form_lr() { return get_lr(); }
  double current(std::size_t g) const { return opt_.lr(g); }
  void apply(const std::vector<double>& lrs);

  Optimizer& opt_;
  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = -1;
  std::vector<double> last_lr_;
  bool had_initial_lrs_ = true;  // every group's initial_lr was set before this schedule
  friend class ComposedLR;
  friend class SequentialLR;
};

/// lr = base * gamma^(epoch / step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& opt, std::int64_t step_size, double gamma = 0.1, std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

/// lr = base * gamma^(number of milestones <= epoch).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& opt, std::vector<std::int64_t> milestones, double gamma = 0.1,
              std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  std::vector<std::int64_t> milestones_;  // sorted; repeats multiply again, as PyTorch's Counter
  double gamma_;
};

/// lr = base * gamma^epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& opt, double gamma, std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  double gamma_;
};

/// lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2, continuing the cosine past
/// T_max as PyTorch does (SGDR without restarts; Loshchilov & Hutter 2017).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& opt, std::int64_t T_max, double eta_min = 0,
                    std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  std::int64_t T_max_;
  double eta_min_;
};

/// Linear warm-up: the factor goes from start_factor to end_factor over total_iters epochs.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0,
           std::int64_t total_iters = 5, std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  double start_, end_;
  std::int64_t total_;
};

/// lr = base * factor until total_iters epochs have passed, then base (torch's ConstantLR: a
/// constant warm-up).
class ConstantLR : public LRScheduler {
 public:
  ConstantLR(Optimizer& opt, double factor = 1.0 / 3, std::int64_t total_iters = 5,
             std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  double factor_;
  std::int64_t total_;
};

/// lr = base * (1 - min(epoch, total_iters) / total_iters)^power: decays to 0 at total_iters.
class PolynomialLR : public LRScheduler {
 public:
  PolynomialLR(Optimizer& opt, std::int64_t total_iters = 5, double power = 1,
               std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  std::int64_t total_;
  double power_;
};

/// lr = the previous lr * f(epoch), from epoch 1 on (torch's MultiplicativeLR).
class MultiplicativeLR : public LRScheduler {
 public:
  MultiplicativeLR(Optimizer& opt, std::function<double(std::int64_t)> f,
                   std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  std::function<double(std::int64_t)> f_;
};

/// lr = base * f(epoch) for any f.
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& opt, std::function<double(std::int64_t)> f, std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  std::function<double(std::int64_t)> f_;
};

/// A schedule made of others, which it steps itself: saves its own entries under the prefix
/// and child i's under "<prefix><i>.", all checked before any is loaded.
class ComposedLR : public LRScheduler {
 public:
  void save_state(Archive& ar, const std::string& prefix = "sched.") const override;
  void load_state(const Archive& ar, const std::string& prefix = "sched.") override;
  void check_state(const Archive& ar, const std::string& prefix = "sched.") const override;

 protected:
  /// Checks that every child exists and drives opt (ValueError naming `who`).
  ComposedLR(const char* who, Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> children);
  std::vector<double> get_lr() override { return last_lr_; }
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;

 private:
  const char* who_;
};

/// Runs schedulers one after another, switching at the milestones (e.g. LinearLR warm-up, then
/// CosineAnnealingLR); each later one restarts from its epoch 0 at its milestone.
class SequentialLR : public ComposedLR {
 public:
  SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<std::int64_t> milestones);
  void step() override;

 private:
  std::vector<std::int64_t> milestones_;
};

/// Steps every scheduler each step, in order, so their factors compound (e.g. ConstantLR's
/// warm-up times ExponentialLR's decay), as torch's ChainedScheduler.
class ChainedScheduler : public ComposedLR {
 public:
  explicit ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers);
  void step() override;
};

struct ReduceLROnPlateauOptions {
  enum class Mode { Min, Max } mode = Mode::Min;
  double factor = 0.1;
  std::int64_t patience = 10;
  double threshold = 1e-4;
  enum class ThresholdMode { Rel, Abs } threshold_mode = ThresholdMode::Rel;
  std::int64_t cooldown = 0;
  double min_lr = 0;
  double eps = 1e-8;  ///< changes smaller than this are not applied
};

/// Multiplies the lr by factor once the metric has not improved for more than patience epochs
/// (improvement is relative by default: better than best * (1 - threshold) in min mode).
class ReduceLROnPlateau : public SchedulerState {
 public:
  using Options = ReduceLROnPlateauOptions;
  explicit ReduceLROnPlateau(Optimizer& opt, Options options = {});
  /// Feeds one epoch's metric (e.g. validation loss).
  void step(double metric);
  std::vector<double> get_last_lr() const;
  std::int64_t num_bad_epochs() const { return num_bad_; }
  double best() const { return best_; }
  void save_state(Archive& ar, const std::string& prefix = "sched.") const override;
  void load_state(const Archive& ar, const std::string& prefix = "sched.") override;
  void check_state(const Archive& ar, const std::string& prefix = "sched.") const override;

 private:
  struct Loaded {
    double best;
    std::int64_t num_bad, cooldown_counter, last_epoch;
  };
  Loaded read_state(const Archive& ar, const std::string& prefix) const;
  bool is_better(double a) const;
  Optimizer& opt_;
  Options o_;
  double best_;
  std::int64_t num_bad_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
};

}  // namespace tapegrad::optim
