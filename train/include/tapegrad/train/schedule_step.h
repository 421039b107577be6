// The schedules as fit() callbacks: an epoch-driven schedule stepped after every epoch (or every
// batch), and ReduceLROnPlateau fed an epoch record's metric.
#pragma once
#include <string>

#include "tapegrad/optim/lr_scheduler.h"
#include "tapegrad/optim/plateau.h"
#include "tapegrad/train/callback.h"

namespace tapegrad::train {

/// Steps schedule after every epoch, or after every batch with per_batch (CyclicLR,
/// OneCycleLR, warm restarts per batch). Keeps a reference: schedule must outlive it.
class ScheduleStep : public Callback {
 public:
  /// Steps schedule per epoch, or per batch with per_batch.
  explicit ScheduleStep(optim::LRScheduler& schedule, bool per_batch = false)
      : schedule_(schedule), per_batch_(per_batch) {}
  /// schedule.step() when per_batch; always continues.
  Signal on_batch_end(const BatchEnd&) override;
  /// schedule.step() unless per_batch; always continues.
  Signal on_epoch_end(const EpochEnd&) override;

 private:
  optim::LRScheduler& schedule_;
  bool per_batch_;
};

/// Feeds plateau the epoch record's `monitor` after every epoch (ValueError listing the names
/// the record has when it lacks it).
class PlateauStep : public Callback {
 public:
  /// Feeds plateau the record's metric named monitor.
  explicit PlateauStep(optim::ReduceLROnPlateau& plateau, std::string monitor = "val_loss")
      : plateau_(plateau), monitor_(std::move(monitor)) {}
  /// plateau.step(the record's monitor); always continues.
  Signal on_epoch_end(const EpochEnd& e) override;

 private:
  optim::ReduceLROnPlateau& plateau_;
  std::string monitor_;
};

}  // namespace tapegrad::train
