// ReduceLROnPlateau (torch.optim.lr_scheduler, 1.13): the lr falls when a watched metric stops
// improving.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

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
  std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                          const std::string& prefix = "sched.") const override;
  void apply_state(LoadedState& state) override;

 private:
  bool is_better(double a) const;
  Optimizer& opt_;
  Options o_;
  double best_;
  std::int64_t num_bad_ = 0, cooldown_counter_ = 0, last_epoch_ = 0;
};

}  // namespace tapegrad::optim
