// One call saves a whole training run (model, optimizer, schedule, progress, the global random
// generator) and one call resumes it; the file is an Archive (docs/checkpoint-format.md).
#pragma once
#include <cstdint>
#include <string>

#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/optim/schedulers.h"

namespace tapegrad::optim {

/// Where training stands; stored beside the state.
struct Progress {
  std::int64_t epoch = 0;
  std::int64_t step = 0;
};

void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& opt,
                     const SchedulerState* schedule = nullptr, Progress progress = {});
/// Restores everything save_checkpoint wrote; on any error (named with the file) the model,
/// optimizer and schedule are left as they were.
Progress load_checkpoint(const std::string& path, nn::Module& model, Optimizer& opt,
                         SchedulerState* schedule = nullptr);

}  // namespace tapegrad::optim
