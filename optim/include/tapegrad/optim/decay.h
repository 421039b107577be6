// Schedules that decay the lr on a fixed plan (torch.optim.lr_scheduler, 1.13): by steps, at
// milestones, exponentially, or polynomially to zero.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

/// lr = base * gamma^(epoch / step_size).
class StepLR : public FormulaLR {
 public:
  /// Decays every step_size >= 1 epochs (else ValueError) by gamma. last_epoch: -1 starts afresh, k
  /// resumes (LRScheduler::initial_step).
  StepLR(Optimizer& opt, std::int64_t step_size, double gamma = 0.1, std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

/// lr = base * gamma^(number of milestones <= epoch).
class MultiStepLR : public FormulaLR {
 public:
  /// Decays by gamma at each milestone epoch (any order; a repeated one decays again).
  /// last_epoch: -1 starts afresh, k resumes (LRScheduler::initial_step).
  MultiStepLR(Optimizer& opt, std::vector<std::int64_t> milestones, double gamma = 0.1,
              std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;

 private:
  std::vector<std::int64_t> milestones_;  // sorted; repeats multiply again, as PyTorch's Counter
  double gamma_;
};

/// lr = base * gamma^epoch.
class ExponentialLR : public FormulaLR {
 public:
  /// Decays by gamma every epoch. last_epoch: -1 starts afresh, k resumes
  /// (LRScheduler::initial_step).
  ExponentialLR(Optimizer& opt, double gamma, std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;

 private:
  double gamma_;
};

/// lr = base * (1 - min(epoch, total_iters) / total_iters)^power: decays to 0 at total_iters.
class PolynomialLR : public FormulaLR {
 public:
  /// Decays to 0 over total_iters >= 1 epochs with a finite power (else ValueError).
  /// last_epoch: -1 starts afresh, k resumes (LRScheduler::initial_step).
  PolynomialLR(Optimizer& opt, std::int64_t total_iters = 5, double power = 1,
               std::int64_t last_epoch = -1);

 protected:
  double lr_at(std::size_t g, std::int64_t epoch) const override;

 private:
  std::int64_t total_;
  double power_;
};

}  // namespace tapegrad::optim
