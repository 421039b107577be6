// One call saves a whole training run (model, optimizer, schedule, progress, the global random
// generator) and one call resumes it; the file is an Archive (docs/checkpoint-format.md).
// Checkpointer (checkpointer.h) builds on these to save on a schedule and keep the best.
#pragma once
#include <cstdint>
#include <string>

#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/optim/schedulers.h"

namespace tapegrad::train {

/// Where training stands; stored beside the state.
struct Progress {
  std::int64_t epoch = 0;  ///< epochs completed
  std::int64_t step = 0;   ///< optimizer steps taken in all
  std::int64_t batch = 0;  ///< batches done in the epoch in progress (0: at an epoch boundary)
};

/// Writes model, optimizer, schedule (when not null), progress and the global generator's state
/// to path as one Archive, atomically (Archive::save).
void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& opt,
                     const optim::SchedulerState* schedule = nullptr, Progress progress = {});
/// Restores everything save_checkpoint wrote; on any error (named with the file) the model,
/// optimizer, schedule and global generator are left as they were.
Progress load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& opt,
                         optim::SchedulerState* schedule = nullptr);

}  // namespace tapegrad::train
