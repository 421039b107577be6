// MetricsLog: a run's per-step and per-epoch records as CSV and JSON Lines, with the run's
// configuration at the top, flushed at every epoch, appended to on resume, and cut back to a
// checkpoint's position so a resumed run's log reads as one uninterrupted run.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/train/callback.h"
#include "tapegrad/train/record.h"

namespace tapegrad::train {

/// A run's configuration as (key, value) pairs, in order.
using Config = std::vector<std::pair<std::string, std::string>>;

/// Which files a MetricsLog writes, and what goes atop them.
struct MetricsLogOptions {
  std::string csv = {};        ///< per-epoch records as CSV ("": none)
  std::string steps_csv = {};  ///< per-step records as CSV ("": none)
  std::string jsonl = {};  ///< every record, each with a "type" (config, step, epoch) ("": none)
  /// The run's configuration: the first JSON Lines record and "# key: value" lines atop each
  /// CSV file. On append, JSON Lines gets a second config record marked "resumed".
  Config config = {};
  /// Keep the records already in the files (resuming); otherwise start them afresh. A last
  /// line cut short by a crash is dropped.
  bool append = false;
};

/// Sizes of the log's files in bytes, after a flush: where a checkpoint's run stood.
struct LogPosition {
  /// Bytes in the epoch CSV file (0 without one).
  std::int64_t csv = 0, steps_csv = 0, jsonl = 0;  ///< bytes in the JSON Lines file (0 without one)
  /// \var steps_csv
  /// Bytes in the step CSV file (0 without one).
};

/// As a fit() callback: a step record (epoch, step, loss, lr) per batch when a file takes them,
/// and the epoch record per epoch.
class MetricsLog : public Callback {
 public:
  /// Opens (creating, or with append continuing) the files named; IoError naming a file that
  /// cannot be opened.
  explicit MetricsLog(MetricsLogOptions options);
  ~MetricsLog() override;
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  /// A per-step record, buffered until the next epoch record or flush().
  void log_step(const Record& r);
  /// A per-epoch record; flushes every file. A CSV file's columns are its first record's names;
  /// a later record may leave columns out (empty fields) but not bring new ones (ValueError).
  void log_epoch(const Record& r);
  /// Writes buffered records out to every file; IoError naming a file that fails.
  void flush();

  /// Flushes, then returns the files' sizes.
  LogPosition position();
  /// Checks that every file holds at least position's bytes (IoError naming the file otherwise).
  void check_position(const LogPosition& p) const;
  /// Cuts the files back to p: what was logged after that checkpoint is dropped.
  void truncate(const LogPosition& p);

  /// The options it was built with.
  const MetricsLogOptions& options() const { return options_; }

  void on_fit_begin(FitState& state) override { opt_ = &state.optimizer; }
  /// A step record (epoch, step, loss, lr) when a file takes them; always continues.
  Signal on_batch_end(const BatchEnd& b) override;
  /// log_epoch(e.record); always continues.
  Signal on_epoch_end(const EpochEnd& e) override;
  /// Whether log_step writes anywhere (a steps_csv or jsonl file), so callers can skip building
  /// step records.
  bool logs_steps() const { return steps_csv_ || jsonl_; }

 private:
  struct File;
  void write(File& f, const char* type, const Record& r);
  MetricsLogOptions options_;
  std::unique_ptr<File> csv_, steps_csv_, jsonl_;
  const optim::Optimizer* opt_ = nullptr;  // in fit: the lr of step records
};

/// What a log file holds: read back from CSV (".csv") or JSON Lines (any other name).
struct LogContents {
  Config config = {};  ///< the configuration record (from JSON Lines, or a CSV file's header lines)
  /// The epoch records, in order.
  std::vector<Record> epochs, steps;  ///< the step records, in order
};
/// Which records a CSV file holds (a JSON Lines file says so in each record).
enum class LogKind { Epochs, Steps };
/// Reads a file MetricsLog wrote; a last line cut short by a crash is ignored. Empty fields and
/// JSON nulls read as NaN. IoError naming file and line for anything else it cannot read.
LogContents read_log(const std::string& path, LogKind csv_kind = LogKind::Epochs);

}  // namespace tapegrad::train
