// EarlyStopping: stop when a monitored metric has not improved for `patience` epochs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "tapegrad/train/callback.h"

namespace tapegrad::train {

/// Whether smaller (loss) or larger (accuracy) is better.
enum class Mode { Min, Max };

/// When EarlyStopping stops a run. Its constructor throws ValueError for patience < 1 or a
/// negative or non-finite min_delta.
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";  ///< the epoch record's metric to watch
  std::int64_t patience = 5;         ///< epochs without improvement before stopping
  /// An improvement must beat the best by more than this (>= 0).
  double min_delta = 0;
  Mode mode = Mode::Min;  ///< whether monitor improves by falling (Min) or rising (Max)
};

/// Stops fit() once the monitored metric has not improved for patience epochs in a row.
class EarlyStopping : public Callback {
 public:
  /// Watches options.monitor with options.patience.
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  /// Feeds one value; true when training should stop (patience values in a row that did not
  /// improve on the best by more than min_delta; NaN never improves).
  bool step(double value);
  /// step() on the record's monitored metric (ValueError naming it when the record lacks it).
  Signal on_epoch_end(const EpochEnd& e) override;

  /// The best value seen (nullopt before the first that was a number).
  std::optional<double> best() const { return best_; }
  /// Values in a row that did not improve on the best.
  std::int64_t bad_epochs() const { return bad_; }
  /// True once step() has asked to stop.
  bool stopped() const { return stopped_; }
  /// The options it was built with.
  const EarlyStoppingOptions& options() const { return options_; }

 private:
  EarlyStoppingOptions options_;
  std::optional<double> best_;
  std::int64_t bad_ = 0;
  bool stopped_ = false;
};

/// Whether value improves on best by more than min_delta in mode (no best yet: any number).
bool improves(double value, std::optional<double> best, Mode mode, double min_delta = 0);

}  // namespace tapegrad::train
