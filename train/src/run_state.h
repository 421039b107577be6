// The pieces of save_checkpoint/load_checkpoint, for Checkpointer, which stores entries of its
// own in the same file and must check them before anything is applied. A run loads in two
// phases, as every Stateful does: read and check every piece, then apply them all.
#pragma once
#include <memory>
#include <string>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/core/io/stateful.h"
#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/train/checkpoint.h"

namespace tapegrad::train::detail {

/// A whole run read from a checkpoint and checked, not yet applied.
struct LoadedRun {
  Progress progress;
  Generator rng;
  nn::StateDict model;
  std::unique_ptr<LoadedState> optimizer, schedule;
};

// A null optimizer is a model-only run (Hogwild's shared model, whose workers' optimizers
// start afresh): none written, and an optimizer's entries in the file are left unread.
void write_run(Archive& ar, const nn::Module& model, const optim::Optimizer* opt,
               const optim::SchedulerState* schedule, Progress progress);
/// Reads and checks every piece load_checkpoint applies, changing nothing; errors name path.
LoadedRun read_run(const Archive& ar, const std::string& path, const nn::Module& model,
                   const optim::Optimizer* opt, const optim::SchedulerState* schedule);
/// Applies what read_run returned (nothing in it can fail).
void apply_run(LoadedRun& run, nn::Module& model, optim::Optimizer* opt,
               optim::SchedulerState* schedule);
/// e's message with path in it (Archive's messages already name the file).
std::string name_file(const std::string& path, const std::string& what, const char* op);

}  // namespace tapegrad::train::detail
