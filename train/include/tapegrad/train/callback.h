// Callbacks: what fit() calls before training, and at the end of every batch and every epoch;
// any may stop it. Everything around fit's loop is one: checkpoints (Checkpointer), logs
// (MetricsLog), what is printed (Printer), schedules (ScheduleStep, PlateauStep), early stopping.
#pragma once
#include <cstdint>
#include <functional>

#include "tapegrad/data/dataloader.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/train/checkpoint.h"
#include "tapegrad/train/record.h"

namespace tapegrad::train {

/// What a callback tells fit(): Continue, or Stop the run after this point.
enum class Signal { Continue, Stop };

/// The run fit() drives, as its callbacks see it.
struct FitState {
  nn::Module& model;            ///< the model being trained
  optim::Optimizer& optimizer;  ///< the optimizer stepping it
  data::DataLoader& loader;     ///< the training data
  /// Where training stands: a callback may move it before the first epoch (a resume).
  Progress& progress;
  std::int64_t epochs;  ///< the epoch fit stops after
};

/// What on_batch_end receives, after each batch's optimizer step.
struct BatchEnd {
  std::int64_t epoch;  ///< the epoch in progress, from 1
  std::int64_t batch;  ///< batches done in it, from 1
  std::int64_t step;   ///< optimizer steps taken in all
  std::int64_t size;   ///< rows in this batch
  double loss;         ///< this batch's loss
};

/// What on_epoch_end receives, after each epoch and its validation.
struct EpochEnd {
  std::int64_t epoch;  ///< epochs completed, from 1
  /// epoch, train_loss, val_loss and the validation metrics (when validating), lr, seconds.
  const Record& record;
  std::int64_t step = 0;  ///< optimizer steps taken in all
};

/// What fit() calls at fixed points of training. Each default does nothing and continues, so a
/// callback overrides only the points it needs.
class Callback {
 public:
  virtual ~Callback() = default;
  /// Before the first epoch, in the order fit was given the callbacks.
  virtual void on_fit_begin(FitState&) {}
  /// Before each epoch's first batch, with that epoch's number from 1 and its batch count.
  virtual void on_epoch_begin(std::int64_t /*epoch*/, std::int64_t /*batches*/) {}
  /// After each batch's optimizer step. Stop ends training there (the partial epoch gets no
  /// epoch record); every callback still sees the batch.
  virtual Signal on_batch_end(const BatchEnd&) { return Signal::Continue; }
  /// After each epoch, with its record. Stop ends training after it; every callback still sees
  /// the epoch.
  virtual Signal on_epoch_end(const EpochEnd&) { return Signal::Continue; }
  /// Whether this callback saves the run (a Checkpointer): fit calls those after every other
  /// callback at each point, so what they save includes what the others changed there.
  virtual bool saves() const { return false; }
};

/// A Callback from lambdas, for one-off printing or stopping.
class LambdaCallback : public Callback {
 public:
  /// The functions a LambdaCallback calls; an empty one continues.
  struct Functions {
    std::function<Signal(const BatchEnd&)> on_batch_end = nullptr;  ///< after each batch
    std::function<Signal(const EpochEnd&)> on_epoch_end = nullptr;  ///< after each epoch
  };
  /// Calls f's functions at their points.
  explicit LambdaCallback(Functions f) : f_(std::move(f)) {}
  /// f.on_batch_end(b), or Continue when it is empty.
  Signal on_batch_end(const BatchEnd& b) override {
    return f_.on_batch_end ? f_.on_batch_end(b) : Signal::Continue;
  }
  /// f.on_epoch_end(e), or Continue when it is empty.
  Signal on_epoch_end(const EpochEnd& e) override {
    return f_.on_epoch_end ? f_.on_epoch_end(e) : Signal::Continue;
  }

 private:
  Functions f_;
};

}  // namespace tapegrad::train
