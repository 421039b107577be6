// Plots: a gnuplot script with its data inline (datablocks), run as a child process without a
// shell (so no path needs shell quoting), its stderr kept for the error message.
#include "tapegrad/train/plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

extern char** environ;

namespace tapegrad::train {
namespace {
namespace fs = std::filesystem;

// A gnuplot single-quoted string: a quote inside is written twice.
std::string quoted(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("''") : std::string(1, c);
  return r + "'";
}

std::string value(double v) { return std::isfinite(v) ? msg(v) : "NaN"; }

}  // namespace

// Writes script to <png>.gp and runs gnuplot on it. false (with a message) when gnuplot is not
// installed; IoError when it ran and failed.
bool plot_script(const std::string& png, const std::string& script) {
  const std::string gp = png + ".gp", err = png + ".gp.err";
  {
    std::ofstream f(gp);
    f << script;
    if (!f) throw IoError(msg("plot: cannot write ", gp));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  const char* argv[] = {"gnuplot", gp.c_str(), nullptr};
  pid_t pid = 0;
  const int rc =
      posix_spawnp(&pid, "gnuplot", &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT) {
    std::remove(err.c_str());
    std::fprintf(stderr,
                 "plot: gnuplot is not installed, so %s was not drawn (apt-get install "
                 "gnuplot-nox; scripts/setup.sh does); its script is %s\n",
                 png.c_str(), gp.c_str());
    return false;
  }
  if (rc != 0) throw IoError(msg("plot: cannot run gnuplot: ", std::strerror(rc)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::stringstream text;
  text << std::ifstream(err).rdbuf();
  std::remove(err.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw IoError(msg("plot: gnuplot failed on ", gp, ": ", text.str()));
  return true;
}

namespace {

std::string header(const PlotOptions& o, const std::string& png, const std::string& title) {
  // noenhanced: names such as test_loss are text, not subscripts.
  return msg("set terminal pngcairo size ", o.width, ",", o.height, " font ',10' noenhanced\n",
             "set output ", quoted(png), "\n", "set title ",
             quoted(o.title.empty() ? title : o.title + ": " + title), "\n");
}

// Columns of the epoch records that exist (any record has them), in the order given.
std::vector<std::string> present(const LogContents& log, const std::vector<std::string>& names) {
  std::vector<std::string> r;
  for (const std::string& n : names)
    for (const Record& rec : log.epochs)
      if (rec.has(n)) {
        r.push_back(n);
        break;
      }
  return r;
}

bool curve(const LogContents& log, const std::string& png, const std::vector<std::string>& cols,
           const std::string& title, const std::string& ylabel, const PlotOptions& o) {
  std::string s = header(o, png, title);
  s += msg("set xlabel 'epoch'\nset ylabel ", quoted(ylabel),
           "\nset grid\nset key top right\nset datafile missing 'NaN'\n$d << EOD\n");
  std::int64_t row = 0;
  for (const Record& r : log.epochs) {
    ++row;
    const double* e = r.find("epoch");
    s += value(e ? *e : static_cast<double>(row));
    for (const std::string& c : cols) {
      const double* v = r.find(c);
      s += ' ';
      s += value(v ? *v : NAN);
    }
    s += "\n";
  }
  s += "EOD\n";
  if (row <= 20) s += "set xtics 1\n";  // whole epochs
  s += "plot ";
  for (std::size_t i = 0; i < cols.size(); ++i) {
    std::string name = cols[i];
    for (char& ch : name) ch = ch == '_' ? ' ' : ch;
    s += msg(i ? ", " : "", "$d using 1:", i + 2, " with linespoints pointsize 0.6 title ",
             quoted(name));
  }
  return plot_script(png, s + "\n");
}
}  // namespace

bool plot_curves(const LogContents& log, const std::string& out_dir, const PlotOptions& o) {
  if (log.epochs.empty()) throw ValueError("plot_curves: the log has no epoch records");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw IoError(msg("plot_curves: cannot create ", out_dir, ": ", ec.message()));
  const auto losses = present(log, {"train_loss", "val_loss", "test_loss"});
  const auto accuracies = present(log, {"train_accuracy", "val_accuracy", "test_accuracy"});
  if (losses.empty() && accuracies.empty())
    throw ValueError("plot_curves: the log has no *_loss or *_accuracy columns");
  if (!losses.empty() &&
      !curve(log, (fs::path(out_dir) / "loss.png").string(), losses, "loss", "loss", o))
    return false;
  if (!accuracies.empty() && !curve(log, (fs::path(out_dir) / "accuracy.png").string(), accuracies,
                                    "accuracy", "accuracy", o))
    return false;
  return true;
}

bool plot_curves(const std::string& log_path, const std::string& out_dir, const PlotOptions& o) {
  return plot_curves(read_log(log_path), out_dir, o);
}

bool plot_curves(MetricsLog& log, const std::string& out_dir, const PlotOptions& o) {
  log.flush();
  const MetricsLogOptions& files = log.options();
  if (!files.csv.empty()) return plot_curves(files.csv, out_dir, o);
  if (!files.jsonl.empty()) return plot_curves(files.jsonl, out_dir, o);
  throw ValueError("plot_curves: the MetricsLog writes no epoch records (no csv or jsonl file)");
}

bool plot_confusion(const std::vector<std::vector<std::int64_t>>& m, const std::string& png,
                    const std::vector<std::string>& names, const PlotOptions& o) {
  const std::size_t k = m.size();
  if (k == 0) throw ValueError("plot_confusion: the matrix is empty");
  for (std::size_t i = 0; i < k; ++i)
    if (m[i].size() != k)
      throw ValueError(msg("plot_confusion: the matrix must be square; row ", i, " has ",
                           m[i].size(), " columns, there are ", k, " rows"));
  if (!names.empty() && names.size() != k)
    throw ValueError(msg("plot_confusion: ", names.size(), " class names for ", k, " classes"));
  std::string s = header(o, png, "confusion matrix");
  s += msg("set xlabel 'predicted'\nset ylabel 'true class'\nset xrange [-0.5:", k - 0.5,
           "]\nset yrange [", k - 0.5, ":-0.5]\nunset key\nset tics scale 0\n",
           "set palette defined (0 'white', 1 '#2166ac')\nset cblabel 'images'\n");
  auto tics = [&](const char* axis) {
    std::string t = msg("set ", axis, " (");
    for (std::size_t i = 0; i < k; ++i)
      t += msg(i ? ", " : "", quoted(names.empty() ? std::to_string(i) : names[i]), " ", i);
    return t + ")\n";
  };
  s += tics("xtics") + tics("ytics") + "set xtics rotate by 30 right\n$m << EOD\n";
  for (const auto& row : m) {
    for (std::size_t j = 0; j < k; ++j) s += msg(j ? " " : "", row[j]);
    s += "\n";
  }
  s += "EOD\nplot $m matrix with image, $m matrix using 1:2:(sprintf('%d', $3)) with labels "
       "font ',8'\n";
  return plot_script(png, s);
}

}  // namespace tapegrad::train
