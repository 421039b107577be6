// Schedules from a function of the epoch (torch.optim.lr_scheduler, 1.13).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

/// lr = base * f(epoch) for any f. As torch's, it sets that value even in a ChainedScheduler
/// (its chainable form ignores the current lr).
class LambdaLR : public FormulaLR {
 public:
  /// f gives the factor for an epoch (ValueError if empty). last_epoch: -1 starts afresh, k resumes
  /// (LRScheduler::initial_step).
  LambdaLR(Optimizer& opt, std::function<double(std::int64_t)> f, std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;
  std::vector<double> get_lr() override { return closed_form_lr(); }

 private:
  std::function<double(std::int64_t)> f_;
};

/// lr = the previous lr * f(epoch), from epoch 1 on (torch's MultiplicativeLR). It has no
/// closed form: each step multiplies the current lr.
class MultiplicativeLR : public LRScheduler {
 public:
  /// f gives the factor for an epoch (ValueError if empty). last_epoch: -1 starts afresh, k resumes
  /// (LRScheduler::initial_step).
  MultiplicativeLR(Optimizer& opt, std::function<double(std::int64_t)> f,
                   std::int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;

 private:
  std::function<double(std::int64_t)> f_;
};

}  // namespace tapegrad::optim
