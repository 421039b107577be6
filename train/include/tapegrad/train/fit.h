// fit(): the common training loop in one call: epochs of forward, loss, backward, optional
// clipping, step; a schedule; validation; a progress bar; a log; checkpoints and resume;
// callbacks that may stop it. The explicit loop (README) remains the way to do anything else.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tapegrad/data/dataloader.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/optim/schedulers.h"
#include "tapegrad/train/callback.h"
#include "tapegrad/train/checkpointer.h"
#include "tapegrad/train/evaluate.h"
#include "tapegrad/train/metrics_log.h"

namespace tapegrad::train {

struct FitOptions {
  std::int64_t epochs = 1;
  /// Stepped after every epoch, or after every batch with schedule_per_batch.
  optim::LRScheduler* scheduler = nullptr;
  bool schedule_per_batch = false;
  /// Fed the epoch record's plateau_monitor after every epoch.
  optim::ReduceLROnPlateau* plateau = nullptr;
  std::string plateau_monitor = "val_loss";
  /// Evaluated after every epoch; its results join the epoch record as val_loss, val_accuracy...
  data::DataLoader* val_loader = nullptr;
  EvaluateOptions val = {};
  std::string val_prefix = "val_";  ///< the validation names' prefix in the record
  LossFn loss = nullptr;  ///< default: cross_entropy for int64 targets, mse_loss otherwise
  double clip_norm = 0;   ///< clip the gradients' total 2-norm to this (0: off)
  std::vector<Callback*> callbacks = {};
  /// A ProgressBar per epoch, and a line saying where a resumed run continues.
  bool progress = true;
  bool print_epochs = true;   ///< a line per epoch with its record
  MetricsLog* log = nullptr;  ///< a step record per batch, an epoch record per epoch
  /// Saves on its schedule; with resume, fit first continues from its newest checkpoint.
  Checkpointer* checkpoint = nullptr;
  bool resume = true;
  /// Data-parallel training: sums numbers across the ranks in place, e.g.
  /// `[](std::span<double> v) { dist::all_reduce(v); }`. Each epoch's training-loss sum and
  /// sample count go through it, so that train_loss is the whole job's and the same on every
  /// rank, and so is every decision taken from it (best checkpoint, early stopping, plateau).
  /// Empty: this process's own figures.
  std::function<void(std::span<double>)> sum_across_ranks = nullptr;
  /// Where training stands when fit starts (what load_checkpoint or Checkpointer::resume
  /// returned, or an earlier fit's progress); a resume through `checkpoint` replaces it. The
  /// loader is placed at its epoch and batch.
  Progress start = {};
};

struct FitResult {
  std::vector<Record> epochs;  ///< the epoch records of this call
  Progress progress;           ///< where training stands at the end
  bool stopped = false;        ///< a callback stopped it before `epochs`
};

FitResult fit(nn::Module& model, optim::Optimizer& opt, data::DataLoader& loader,
              FitOptions options = {});

}  // namespace tapegrad::train
