// Cosine annealing (Loshchilov & Hutter 2017, SGDR), with PyTorch's semantics
// (torch.optim.lr_scheduler, 1.13): once over T_max epochs (continuing past it as torch does),
// or with warm restarts, per epoch or per batch at fractional epochs.
#pragma once
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

/// lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2, continuing the cosine past
/// T_max as PyTorch does (SGDR without restarts). Steps follow torch's recursive form, which
/// moves the lr relative to eta_min rather than by a factor: a ChainedScheduler's values (and
/// an lr set by hand between steps) follow it, so this schedule keeps it beside the formula.
class CosineAnnealingLR : public FormulaLR {
 public:
  /// Anneals over T_max >= 1 epochs (else ValueError) from each group's base lr down to eta_min.
  /// last_epoch: -1 starts afresh, k resumes (LRScheduler::initial_step).
  CosineAnnealingLR(Optimizer& opt, std::int64_t T_max, double eta_min = 0,
                    std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;
  std::vector<double> get_lr() override;

 private:
  std::int64_t T_max_;
  double eta_min_;
};

/// SGDR (Loshchilov & Hutter 2017): lr = eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) / 2,
/// where T_cur counts epochs since the last restart and the cycle length T_i starts at T_0 and
/// is multiplied by T_mult at each restart.
class CosineAnnealingWarmRestarts : public LRScheduler {
 public:
  /// A first cycle of T_0 >= 1 epochs, each next one T_mult >= 1 times longer, down to eta_min
  /// (finite); ValueError otherwise. last_epoch: -1 starts afresh, k resumes
  /// (LRScheduler::initial_step).
  CosineAnnealingWarmRestarts(Optimizer& opt, std::int64_t T_0, std::int64_t T_mult = 1,
                              double eta_min = 0, std::int64_t last_epoch = -1);
  void step() override;
  /// Goes to a fractional epoch, torch's step(epoch): stepping per batch as
  /// step(epoch + batch / batches_per_epoch) anneals within each epoch.
  void step(double epoch);
  /// Epochs since the last restart (fractional when stepped per batch).
  double T_cur() const { return T_cur_; }
  /// The current cycle's length in epochs.
  double T_i() const { return T_i_; }
  /// The base's entries, then T_cur and T_i.
  void save_state(Archive& ar, const std::string& prefix = "sched.") const override;
  std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                          const std::string& prefix = "sched.") const override;
  void apply_state(LoadedState& state) override;

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  void place(double epoch);  // T_cur and T_i of an epoch, from T_0 alone
  std::int64_t T_0_, T_mult_;
  double eta_min_, T_cur_ = -1, T_i_;
};

}  // namespace tapegrad::optim
