// Printer: what fit() prints, as a callback: a ProgressBar over each epoch's batches and a line
// per epoch with its record.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>

#include "tapegrad/train/callback.h"
#include "tapegrad/train/progress.h"

namespace tapegrad::train {

struct PrinterOptions {
  bool bars = true;    ///< a ProgressBar per epoch (redrawn on a terminal, tenths elsewhere)
  bool epochs = true;  ///< "epoch 3/15  train_loss 0.4321  val_loss ...  lr 0.001  2.1s"
  std::FILE* out = stdout;
};

class Printer : public Callback {
 public:
  explicit Printer(PrinterOptions options = {});
  ~Printer() override;
  void on_fit_begin(FitState& state) override;
  void on_epoch_begin(std::int64_t epoch, std::int64_t batches) override;
  Signal on_batch_end(const BatchEnd& b) override;
  Signal on_epoch_end(const EpochEnd& e) override;

 private:
  PrinterOptions options_;
  std::int64_t epochs_ = 0;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace tapegrad::train
