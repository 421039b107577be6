// Deprecated: whole-run checkpoints moved to tapegrad::train (tapegrad/train/checkpoint.h), so
// that optim depends on core alone. These forwards keep old scripts building for one release;
// the header lives with the train library, which owns the functions.
#pragma once
#include "tapegrad/train/checkpoint.h"

namespace tapegrad::optim {

using Progress [[deprecated("use tapegrad::train::Progress")]] = train::Progress;

[[deprecated("use tapegrad::train::save_checkpoint")]] inline void save_checkpoint(
    const std::string& path, const nn::Module& model, const Optimizer& opt,
    const SchedulerState* schedule = nullptr, train::Progress progress = {}) {
  train::save_checkpoint(path, model, opt, schedule, progress);
}

[[deprecated("use tapegrad::train::load_checkpoint")]] inline train::Progress load_checkpoint(
    const std::string& path, nn::Module& model, Optimizer& opt,
    SchedulerState* schedule = nullptr) {
  return train::load_checkpoint(path, model, opt, schedule);
}

}  // namespace tapegrad::optim
