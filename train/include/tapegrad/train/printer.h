// Printer: what fit() prints, as a callback: a ProgressBar over each epoch's batches and a line
// per epoch with its record.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>

#include "tapegrad/train/callback.h"
#include "tapegrad/train/progress.h"

namespace tapegrad::train {

/// What a Printer prints, and where.
struct PrinterOptions {
  bool bars = true;         ///< a ProgressBar per epoch (redrawn on a terminal, tenths elsewhere)
  bool epochs = true;       ///< "epoch 3/15  train_loss 0.4321  val_loss ...  lr 0.001  2.1s"
  std::FILE* out = stdout;  ///< where it prints
};

/// Prints fit()'s progress: a ProgressBar over each epoch's batches and a line per epoch record.
class Printer : public Callback {
 public:
  /// A printer with options (bars and epoch lines on stdout by default).
  explicit Printer(PrinterOptions options = {});
  ~Printer() override;
  void on_fit_begin(FitState& state) override;
  void on_epoch_begin(std::int64_t epoch, std::int64_t batches) override;
  /// Advances the epoch's bar by one batch, showing the running loss; always continues.
  Signal on_batch_end(const BatchEnd& b) override;
  /// Ends the epoch's bar and prints the epoch line; always continues.
  Signal on_epoch_end(const EpochEnd& e) override;

 private:
  PrinterOptions options_;
  std::int64_t epochs_ = 0;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace tapegrad::train
