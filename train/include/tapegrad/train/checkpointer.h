// Checkpointer: whole-run checkpoints on a schedule (every N epochs or steps) into one folder,
// keeping the last k and the best by a chosen metric, each written atomically; resume() picks
// the newest one that loads and restores everything: model, optimizer, schedule, progress,
// global generator, the data loader's order and the log's position. A model-only Checkpointer
// does the same without an optimizer (hogwild's shared model).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/data/dataloader.h"
#include "tapegrad/train/callback.h"
#include "tapegrad/train/checkpoint.h"
#include "tapegrad/train/early_stopping.h"
#include "tapegrad/train/metrics_log.h"
#include "tapegrad/train/record.h"

namespace tapegrad::train {

/// When and where a Checkpointer saves. Its constructor throws ValueError for an empty dir or
/// prefix, a prefix with a '/', a negative interval or keep_last < 1.
struct CheckpointerOptions {
  std::string dir = "checkpoints";    ///< created when missing
  std::string prefix = "checkpoint";  ///< files: \<prefix\>-e0003-s00001407.tg, \<prefix\>-best.tg
  std::int64_t every_epochs = 1;      ///< 0: not by epoch
  std::int64_t every_steps = 0;       ///< 0: not by step
  std::int64_t keep_last = 3;         ///< older scheduled checkpoints are deleted (>= 1)
  std::string best_metric = {};       ///< e.g. "val_accuracy"; "": no best file
  Mode best_mode = Mode::Min;  ///< whether best_metric improves by falling (Min) or rising (Max)
  /// false: this Checkpointer only resumes and never writes or deletes a file (the ranks other
  /// than 0 of a data-parallel job, which resume from rank 0's checkpoints).
  bool write = true;
  /// In fit(): resume from the newest checkpoint before the first epoch.
  bool resume = true;
  /// In fit(): say on stdout where a resumed run continues.
  bool verbose = true;
};

/// As a fit() callback: attaches fit's loader, resumes (resume), saves on its schedule after
/// every batch and every epoch, after the other callbacks (saves()).
class Checkpointer : public Callback {
 public:
  /// schedule may be null. Keeps references: all must outlive the Checkpointer.
  Checkpointer(nn::Module& model, optim::Optimizer& opt, optim::SchedulerState* schedule = nullptr,
               CheckpointerOptions options = {});
  /// A model-only Checkpointer: its checkpoints hold no optimizer state, and it resumes the
  /// model (and progress) from any checkpoint, leaving an optimizer's entries unread. For a run
  /// whose optimizers are not one object kept across it (hogwild's workers).
  explicit Checkpointer(nn::Module& model, CheckpointerOptions options = {});

  /// The loader's seed (its order) travels in checkpoints and resume() restores it and the
  /// position in the epoch.
  void attach(data::DataLoader& loader) { loader_ = &loader; }
  /// The log's position travels in checkpoints and resume() cuts the log back to it.
  void attach(MetricsLog& log) { log_ = &log; }
  /// Forgets the attached loader (one that is about to go away: hogwild's own).
  void detach_loader() { loader_ = nullptr; }

  /// After an optimizer step: saves when every_steps divides p.step. The path, or "".
  std::string on_step(const Progress& p);
  /// After an epoch with its record: saves when every_epochs divides p.epoch, and the best
  /// file when best_metric improved. The scheduled path, or "".
  std::string on_epoch(const Progress& p, const Record& r);
  /// Saves now (a scheduled checkpoint, counted in keep_last); returns its path. The first save
  /// of a run that did not resume removes the folder's checkpoints of an earlier run (with a
  /// note on stderr), so that a later resume() cannot pick one of those.
  std::string save(const Progress& p);

  /// Resumes from the newest scheduled checkpoint in dir that loads (a corrupt or mismatched
  /// one is skipped with a message on stderr naming it and why). nullopt when dir has none;
  /// IoError when there are some and none loads.
  std::optional<Progress> resume();
  /// Resumes from one file: everything checked first, nothing changed on an error.
  Progress resume(const std::string& path);

  /// What a training loop does before its first epoch: attaches loader and, when
  /// options().resume, resumes (saying where on stdout when options().verbose). The progress
  /// resumed, or nullopt. epoch_ends_only: a loop that can only continue from an epoch's end
  /// (hogwild) skips checkpoints taken within an epoch, as it skips a corrupt one.
  std::optional<Progress> begin(data::DataLoader& loader, bool epoch_ends_only = false);

  /// begin() with fit's loader; a resume moves state.progress.
  void on_fit_begin(FitState& state) override;
  /// on_step() with the batch's progress; always continues.
  Signal on_batch_end(const BatchEnd& b) override;
  /// on_epoch() with the epoch's progress and record; always continues.
  Signal on_epoch_end(const EpochEnd& e) override;
  bool saves() const override { return true; }

  /// The scheduled checkpoints in dir, oldest first.
  std::vector<std::string> checkpoints() const;
  /// The best file's path, dir/prefix-best.tg (whether or not it exists yet).
  std::string best_path() const;
  /// The file the last successful resume() read ("" when none).
  const std::string& resumed_from() const { return resumed_from_; }
  /// The best value of best_metric so far (nullopt before the first).
  std::optional<double> best() const { return best_; }
  /// The model it saves and resumes.
  const nn::Module& model() const { return model_; }
  /// True when built without an optimizer.
  bool model_only() const { return opt_ == nullptr; }
  /// The options it was built with.
  const CheckpointerOptions& options() const { return options_; }

 private:
  Checkpointer(nn::Module& model, optim::Optimizer* opt, optim::SchedulerState* schedule,
               CheckpointerOptions options);
  std::string write(const std::string& path, const Progress& p) const;
  void prune() const;
  void replace_earlier_run();

  nn::Module& model_;
  optim::Optimizer* opt_;  // null: model-only
  optim::SchedulerState* schedule_;
  CheckpointerOptions options_;
  data::DataLoader* loader_ = nullptr;
  MetricsLog* log_ = nullptr;
  std::optional<double> best_;
  std::string resumed_from_;
  std::int64_t last_saved_step_ = -1;
  std::string last_saved_;
  bool epoch_ends_only_ = false;
  bool started_ = false;  // this run has saved or resumed  // no second file for the same step
};

}  // namespace tapegrad::train
