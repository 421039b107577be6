// Warm-up schedules (torch.optim.lr_scheduler, 1.13): a factor of the base lr that rises
// linearly, or holds, for the first epochs.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

/// Linear warm-up: the factor goes from start_factor to end_factor over total_iters epochs.
class LinearLR : public FormulaLR {
 public:
  /// start_factor in (0, 1], end_factor in [0, 1], total_iters >= 1 (else ValueError).
  /// last_epoch: -1 starts afresh, k resumes (LRScheduler::initial_step).
  LinearLR(Optimizer& opt, double start_factor = 1.0 / 3, double end_factor = 1.0,
           std::int64_t total_iters = 5, std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;

 private:
  double start_, end_;
  std::int64_t total_;
};

/// lr = base * factor until total_iters epochs have passed, then base (torch's ConstantLR: a
/// constant warm-up). torch's chainable and closed forms disagree when total_iters is 0 (the
/// chainable form, which step() uses, never lifts the factor; the closed form, which a jump
/// uses, starts at base), so this schedule keeps both, as torch computes them.
class ConstantLR : public FormulaLR {
 public:
  /// factor in [0, 1], total_iters >= 0 (else ValueError). last_epoch: -1 starts afresh, k resumes
  /// (LRScheduler::initial_step).
  ConstantLR(Optimizer& opt, double factor = 1.0 / 3, std::int64_t total_iters = 5,
             std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;
  std::vector<double> get_lr() override;

 private:
  double factor_;
  std::int64_t total_;
};

}  // namespace tapegrad::optim
