// Schedules made of schedules (torch.optim.lr_scheduler, 1.13): one after another at
// milestones, or all at once with their factors compounding.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

/// A schedule made of others, which it steps itself: saves its own entries under the prefix
/// and child i's under "<prefix><i>.", all checked before any is loaded.
class ComposedLR : public LRScheduler {
 public:
  void save_state(Archive& ar, const std::string& prefix = "sched.") const override;
  std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                          const std::string& prefix = "sched.") const override;
  void apply_state(LoadedState& state) override;

 protected:
  /// Checks that every child exists and drives opt (ValueError naming `who`).
  ComposedLR(const char* who, Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> children);
  std::vector<double> get_lr() override { return last_lr_; }
  /// The child schedules, in the order given.
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;

 private:
  const char* who_;
};

/// Runs schedulers one after another, switching at the milestones (e.g. LinearLR warm-up, then
/// CosineAnnealingLR); each later one restarts from its epoch 0 at its milestone.
class SequentialLR : public ComposedLR {
 public:
  /// Starts with schedulers[0] and switches to schedulers[i] at epoch milestones[i - 1]: one
  /// milestone fewer than schedules, every schedule driving opt (else ValueError).
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
  /// Steps all of schedulers (at least one, all driving the same optimizer; else ValueError).
  explicit ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers);
  void step() override;
};

}  // namespace tapegrad::optim
