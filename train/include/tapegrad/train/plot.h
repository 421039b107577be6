// Plots as PNG through gnuplot (Debian's gnuplot-nox): a run's loss and accuracy curves from
// its MetricsLog, and a confusion-matrix heatmap. Each writes <file>.gp beside its PNG (the
// script, to restyle by hand). When gnuplot is not installed they print why on stderr and
// return false instead of failing the run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tapegrad/train/metrics_log.h"

namespace tapegrad::train {

/// Size and title of the plots.
struct PlotOptions {
  /// Width in pixels.
  int width = 900, height = 560;  ///< height in pixels
  std::string title = {};         ///< prefixed to each plot's own title
};

/// out_dir/loss.png (train_loss and val_loss against epoch) and, when the log has accuracy
/// columns, out_dir/accuracy.png. IoError when a plot fails for another reason.
bool plot_curves(const LogContents& log, const std::string& out_dir, const PlotOptions& o = {});
/// The same from a log file (CSV of epoch records, or JSON Lines).
bool plot_curves(const std::string& log_path, const std::string& out_dir,
                 const PlotOptions& o = {});
/// The same from a MetricsLog in use (flushed first): its epoch CSV, else its JSON Lines file.
bool plot_curves(MetricsLog& log, const std::string& out_dir, const PlotOptions& o = {});
/// Draws png from a gnuplot script of one's own (which must set its output to png): the script
/// is written beside it as png + ".gp", and run as the plots above are. false (with a message on
/// stderr) when gnuplot is not installed; IoError when it fails.
bool plot_script(const std::string& png, const std::string& script);
/// A heatmap of confusion[target][predicted] with the counts written in, rows labelled with
/// class_names when given.
bool plot_confusion(const std::vector<std::vector<std::int64_t>>& confusion,
                    const std::string& png_path, const std::vector<std::string>& class_names = {},
                    const PlotOptions& o = {});

}  // namespace tapegrad::train
