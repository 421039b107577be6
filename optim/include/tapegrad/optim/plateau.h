// ReduceLROnPlateau (torch.optim.lr_scheduler, 1.13): the lr falls when a watched metric stops
// improving.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"

namespace tapegrad::optim {

/// ReduceLROnPlateau's options, as torch's arguments (defaults included).
struct ReduceLROnPlateauOptions {
  /// Whether the metric improves by falling (a loss) or rising (an accuracy).
  enum class Mode { Min, Max } mode = Mode::Min;  ///< the metric's direction (Min by default)
  double factor = 0.1;         ///< the lr is multiplied by this on a plateau, in [0, 1)
  std::int64_t patience = 10;  ///< epochs without improvement tolerated before the lr falls (>= 0)
  double threshold = 1e-4;     ///< the least improvement that counts (see threshold_mode)
  /// Rel: better than best * (1 - threshold) (min mode); Abs: better than best - threshold.
  enum class ThresholdMode { Rel, Abs } threshold_mode = ThresholdMode::Rel;  ///< Rel by default
  std::int64_t cooldown = 0;  ///< epochs after a reduction in which bad epochs do not count (>= 0)
  double min_lr = 0;          ///< no group's lr falls below this
  double eps = 1e-8;          ///< changes smaller than this are not applied
};

/// Multiplies the lr by factor once the metric has not improved for more than patience epochs
/// (improvement is relative by default: better than best * (1 - threshold) in min mode).
class ReduceLROnPlateau : public SchedulerState {
 public:
  /// The options, ReduceLROnPlateauOptions.
  using Options = ReduceLROnPlateauOptions;
  /// Lowers the lr of every group of opt; ValueError for a factor outside [0, 1) or a negative
  /// patience or cooldown.
  explicit ReduceLROnPlateau(Optimizer& opt, Options options = {});
  /// Feeds one epoch's metric (e.g. validation loss).
  void step(double metric);
  /// Every group's lr now.
  std::vector<double> get_last_lr() const;
  /// Epochs in a row without improvement so far (reset by an improvement or a reduction).
  std::int64_t num_bad_epochs() const { return num_bad_; }
  /// The best metric seen (+inf in min mode, -inf in max mode before the first step).
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
