// Printer: a ProgressBar per epoch, then the epoch's line.
#include "tapegrad/train/printer.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::train {

Printer::Printer(PrinterOptions o) : options_(o) {
  if (!options_.out) throw ValueError("Printer: out is null");
}

Printer::~Printer() = default;

void Printer::on_fit_begin(FitState& state) { epochs_ = state.epochs; }

void Printer::on_epoch_begin(std::int64_t epoch, std::int64_t batches) {
  bar_.reset();  // a bar a stopped epoch left is finished first
  if (!options_.bars) return;
  bar_ = std::make_unique<ProgressBar>(
      batches,
      ProgressBarOptions{
          .label = msg("epoch ", epoch, "/", epochs_), .unit = "batches", .out = options_.out});
}

Signal Printer::on_batch_end(const BatchEnd& b) {
  if (bar_) bar_->update(1, b.loss);
  return Signal::Continue;
}

Signal Printer::on_epoch_end(const EpochEnd& e) {
  bar_.reset();  // finished: on a terminal its line is cleared
  if (!options_.epochs) return Signal::Continue;
  std::string line = msg("epoch ", e.epoch, "/", epochs_);
  char value[32];
  double seconds = 0;
  for (const auto& [name, v] : e.record) {
    if (name == "seconds") seconds = v;
    if (name == "epoch" || name == "seconds") continue;
    std::snprintf(value, sizeof value, "%.4g", v);
    line += msg("  ", name, " ", value);
  }
  std::fprintf(options_.out, "%s  %s\n", line.c_str(), format_duration(seconds).c_str());
  std::fflush(options_.out);
  return Signal::Continue;
}

}  // namespace tapegrad::train
