#include "tapegrad/train/early_stopping.h"

#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::train {

bool improves(double value, std::optional<double> best, Mode mode, double min_delta) {
  if (std::isnan(value)) return false;
  if (!best) return true;
  return mode == Mode::Min ? value < *best - min_delta : value > *best + min_delta;
}

EarlyStopping::EarlyStopping(EarlyStoppingOptions o) : options_(std::move(o)) {
  if (options_.patience < 1)
    throw ValueError(msg("EarlyStopping: patience must be >= 1, got ", options_.patience));
  if (!(options_.min_delta >= 0) || !std::isfinite(options_.min_delta))
    throw ValueError(
        msg("EarlyStopping: min_delta must be finite and >= 0, got ", options_.min_delta));
}

bool EarlyStopping::step(double value) {
  if (improves(value, best_, options_.mode, options_.min_delta)) {
    best_ = value;
    bad_ = 0;
  } else {
    ++bad_;
  }
  stopped_ = bad_ >= options_.patience;
  return stopped_;
}

Signal EarlyStopping::on_epoch_end(const EpochEnd& e) {
  return step(e.record.get(options_.monitor)) ? Signal::Stop : Signal::Continue;
}

}  // namespace tapegrad::train
