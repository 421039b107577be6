// fit(): the common training loop in one call: epochs of forward, loss, backward, optional
// clipping, step, and validation after each epoch; everything else (schedules, what is printed,
// logs, checkpoints and resume, early stopping) is a Callback it calls. The explicit loop
// (README) remains the way to do anything else.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tapegrad/data/dataloader.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/train/callback.h"
#include "tapegrad/train/evaluate.h"
#include "tapegrad/train/printer.h"

namespace tapegrad::train {

/// fit()'s settings: by default one epoch, printed as it goes.
struct FitOptions {
  /// Train until this many epochs are complete (a resumed run trains only the rest).
  std::int64_t epochs = 1;
  /// Evaluated after every epoch; its results join the epoch record as val_loss, val_accuracy...
  data::DataLoader* val_loader = nullptr;
  EvaluateOptions val = {};         ///< how val_loader is evaluated (metrics, loss)
  std::string val_prefix = "val_";  ///< the validation names' prefix in the record
  LossFn loss = nullptr;  ///< default: cross_entropy for int64 targets, mse_loss otherwise
  double clip_norm = 0;   ///< clip the gradients' total 2-norm to this (0: off)
  /// Called in this order at each point (Checkpointers last): e.g. a ScheduleStep, a
  /// MetricsLog, an EarlyStopping, a Checkpointer.
  std::vector<Callback*> callbacks = {};
  /// Print as a default Printer does (a progress bar per epoch, a line per epoch record) before
  /// the callbacks; false to print nothing, or to pass a Printer of one's own among them.
  bool verbose = true;
  /// Data-parallel training: sums numbers across the ranks in place, e.g.
  /// `[](std::span<double> v) { dist::all_reduce(v); }`. Each epoch's training-loss sum and
  /// sample count go through it, so that train_loss is the whole job's and the same on every
  /// rank, and so is every decision taken from it (best checkpoint, early stopping, plateau).
  /// Empty: this process's own figures.
  std::function<void(std::span<double>)> sum_across_ranks = nullptr;
  /// Where training stands when fit starts (what load_checkpoint or Checkpointer::resume
  /// returned, or an earlier fit's progress); a Checkpointer that resumes replaces it. The
  /// loader is placed at its epoch and batch.
  Progress start = {};
};

/// What fit() returns.
struct FitResult {
  std::vector<Record> epochs;  ///< the epoch records of this call
  Progress progress;           ///< where training stands at the end
  bool stopped = false;        ///< a callback stopped it before `epochs`
};

/// Trains model on loader's batches with opt until options.epochs epochs are complete, or a
/// callback stops it. ValueError for a negative epochs, clip_norm or start, or a null callback.
FitResult fit(nn::Module& model, optim::Optimizer& opt, data::DataLoader& loader,
              FitOptions options = {});

}  // namespace tapegrad::train
