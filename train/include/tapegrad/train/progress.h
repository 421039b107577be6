// ProgressBar: on a terminal, one line redrawn in place (bar, count, running loss, items/s,
// elapsed, ETA), cut to the terminal's width; anywhere else (a pipe, CI, a log file), one plain
// line each time another tenth (configurable) of the work is done, and never a control
// character. TAPEGRAD_PROGRESS=lines (or redraw) in the environment overrides the choice.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

namespace tapegrad::train {

/// How a ProgressBar looks and where it prints.
struct ProgressBarOptions {
  std::string label = {};        ///< printed first, e.g. "epoch 3/15"
  std::string unit = "samples";  ///< what update() counts, for the rate
  /// Off a terminal: a line each time this share of the total is passed (0: no lines).
  double line_every = 0.1;
  /// On a terminal: redraw at most this often (the last update always draws).
  double redraw_seconds = 0.1;
  int width = 24;           ///< characters in the bar
  std::FILE* out = stdout;  ///< where it prints
  /// Redraw in place or print lines. Default: redraw when out is a terminal, unless the
  /// environment says otherwise: TAPEGRAD_PROGRESS=lines or redraw decides; under an MPI
  /// launcher (mpiexec sets OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK) lines, since mpiexec
  /// gives rank 0 a pseudo-terminal even when the job's output goes to a file.
  std::optional<bool> terminal = std::nullopt;
  /// The width a redrawn line is cut to (its parts dropped from the right, then the bar
  /// narrowed, then the text cut), so it never wraps; 0: the terminal's own width, else the
  /// COLUMNS environment variable, else no limit.
  int columns = 0;
};

/// Progress over total items: on a terminal one line redrawn in place (bar, count, running loss,
/// rate, elapsed time, ETA); elsewhere a plain line at every tenth of the work.
class ProgressBar {
 public:
  /// A bar for total >= 0 items; ValueError for a bad option (line_every outside [0, 1], width
  /// outside [1, 200], a null out or negative columns).
  explicit ProgressBar(std::int64_t total, ProgressBarOptions options = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// n more items done, whose mean loss was loss (NaN: no loss shown). Draws only when due, so
  /// a call per training step costs a clock read.
  void update(std::int64_t n, double loss = std::numeric_limits<double>::quiet_NaN());
  /// Ends the bar. On a terminal: clears its line (clear) or leaves it with a newline.
  /// The destructor calls finish() when it was not called.
  void finish(bool clear = true);

  /// Items done so far.
  std::int64_t done() const { return done_; }
  /// Items in all.
  std::int64_t total() const { return total_; }
  /// Mean loss over the items updated with a loss (NaN when none).
  double running_loss() const;
  /// Seconds since construction.
  double elapsed_seconds() const;
  /// True when it redraws in place; false when it prints lines.
  bool terminal() const { return terminal_; }

 private:
  void draw(bool in_place);
  int line_width() const;

  std::int64_t total_, done_ = 0, loss_items_ = 0;
  double loss_sum_ = 0;
  ProgressBarOptions options_;
  bool terminal_, finished_ = false;
  std::int64_t next_line_ = 0;  // off a terminal: the count at which the next line is due
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// 0.4s, 12.3s, 4:05, 1:02:03: the durations ProgressBar prints.
std::string format_duration(double seconds);

}  // namespace tapegrad::train
