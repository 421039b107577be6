// The pieces of save_checkpoint/load_checkpoint, for Checkpointer, which stores entries of its
// own in the same file and must check them before anything is applied.
#pragma once
#include <string>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/core/random.h"
#include "tapegrad/train/checkpoint.h"

namespace tapegrad::train::detail {

struct RunState {
  Progress progress;
  Generator rng;
};

void write_run(Archive& ar, const nn::Module& model, const optim::Optimizer& opt,
               const optim::SchedulerState* schedule, Progress progress);
/// Every check load_checkpoint makes, changing nothing; errors name path.
RunState check_run(const Archive& ar, const std::string& path, const nn::Module& model,
                   const optim::Optimizer& opt, const optim::SchedulerState* schedule);
/// Applies a checked archive.
void apply_run(const Archive& ar, nn::Module& model, optim::Optimizer& opt,
               optim::SchedulerState* schedule, const RunState& state);
/// e's message with path in it (Archive's messages already name the file).
std::string name_file(const std::string& path, const std::string& what, const char* op);

}  // namespace tapegrad::train::detail
