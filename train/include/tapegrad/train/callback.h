// Callbacks: what fit() calls at the end of every batch and every epoch; any may stop training.
#pragma once
#include <cstdint>
#include <functional>

#include "tapegrad/train/record.h"

namespace tapegrad::train {

enum class Signal { Continue, Stop };

struct BatchEnd {
  std::int64_t epoch;  ///< the epoch in progress, from 1
  std::int64_t batch;  ///< batches done in it, from 1
  std::int64_t step;   ///< optimizer steps taken in all
  std::int64_t size;   ///< rows in this batch
  double loss;         ///< this batch's loss
};

struct EpochEnd {
  std::int64_t epoch;  ///< epochs completed, from 1
  /// epoch, train_loss, val_loss and the validation metrics (when validating), lr, seconds.
  const Record& record;
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual Signal on_batch_end(const BatchEnd&) { return Signal::Continue; }
  virtual Signal on_epoch_end(const EpochEnd&) { return Signal::Continue; }
};

/// A Callback from lambdas, for one-off printing or stopping.
class LambdaCallback : public Callback {
 public:
  struct Functions {
    std::function<Signal(const BatchEnd&)> on_batch_end = nullptr;
    std::function<Signal(const EpochEnd&)> on_epoch_end = nullptr;
  };
  explicit LambdaCallback(Functions f) : f_(std::move(f)) {}
  Signal on_batch_end(const BatchEnd& b) override {
    return f_.on_batch_end ? f_.on_batch_end(b) : Signal::Continue;
  }
  Signal on_epoch_end(const EpochEnd& e) override {
    return f_.on_epoch_end ? f_.on_epoch_end(e) : Signal::Continue;
  }

 private:
  Functions f_;
};

}  // namespace tapegrad::train
