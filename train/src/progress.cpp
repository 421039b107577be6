// ProgressBar (progress.h): what it draws, and where a redrawn line must stop.
#include "tapegrad/train/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::train {
namespace {
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Whether to redraw in place on a stream that is a terminal: the environment may say no.
bool redraw_on_terminal() {
  if (const char* mode = std::getenv("TAPEGRAD_PROGRESS")) {
    if (std::string_view(mode) == "lines") return false;
    if (std::string_view(mode) == "redraw") return true;
  }
  // An MPI launcher hands rank 0 a pseudo-terminal whether or not its own output is one, so a
  // job redirected to a file would fill it with redrawn lines.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(var)) return false;
  return true;
}
}  // namespace

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else {
    const auto t = static_cast<long long>(s);
    if (t < 3600)
      std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
    else
      std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  }
  return buf;
}

ProgressBar::ProgressBar(std::int64_t total, ProgressBarOptions o)
    : total_(total), options_(std::move(o)) {
  if (total < 0) throw ValueError(msg("ProgressBar: total must be >= 0, got ", total));
  if (!(options_.line_every >= 0 && options_.line_every <= 1))
    throw ValueError(msg("ProgressBar: line_every must be in [0, 1], got ", options_.line_every));
  if (options_.width < 1 || options_.width > 200)
    throw ValueError(msg("ProgressBar: width must be in [1, 200], got ", options_.width));
  if (!options_.out) throw ValueError("ProgressBar: out is null");
  if (options_.columns < 0)
    throw ValueError(msg("ProgressBar: columns must be >= 0, got ", options_.columns));
  terminal_ = options_.terminal ? *options_.terminal
                                : ::isatty(::fileno(options_.out)) == 1 && redraw_on_terminal();
  start_ = last_draw_ = Clock::now();
  next_line_ = options_.line_every > 0
                   ? std::max<std::int64_t>(
                         1, static_cast<std::int64_t>(
                                std::ceil(options_.line_every * static_cast<double>(total_))))
                   : -1;
}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

double ProgressBar::running_loss() const {
  return loss_items_ ? loss_sum_ / static_cast<double>(loss_items_)
                     : std::numeric_limits<double>::quiet_NaN();
}

double ProgressBar::elapsed_seconds() const { return seconds_between(start_, Clock::now()); }

void ProgressBar::update(std::int64_t n, double loss) {
  done_ += n;
  if (!std::isnan(loss)) {
    loss_sum_ += loss * static_cast<double>(n);
    loss_items_ += n;
  }
  if (terminal_) {
    const auto now = Clock::now();
    if (seconds_between(last_draw_, now) >= options_.redraw_seconds || done_ >= total_) {
      last_draw_ = now;
      draw(true);
    }
  } else if (next_line_ > 0 && done_ >= next_line_ && total_ > 0) {
    draw(false);
    // The next tenth past what is done now: a coarse update prints one line, not several.
    const double share = static_cast<double>(done_) / static_cast<double>(total_);
    const double k = std::floor(share / options_.line_every + 1e-9) + 1;
    next_line_ = static_cast<std::int64_t>(
        std::ceil(k * options_.line_every * static_cast<double>(total_) - 1e-9));
    if (done_ >= total_) next_line_ = -1;
  }
}

int ProgressBar::line_width() const {
  if (options_.columns > 0) return options_.columns;
  winsize ws{};
  if (::ioctl(::fileno(options_.out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* env = std::getenv("COLUMNS")) {
    const int c = std::atoi(env);
    if (c > 0) return c;
  }
  return 0;  // unknown: no limit
}

void ProgressBar::draw(bool in_place) {
  const double t = elapsed_seconds();
  const double share =
      total_ > 0 ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 1.0;
  const std::string label = options_.label.empty() ? "" : options_.label + " ";
  auto bar = [&](int width) {
    const int filled = static_cast<int>(width * share);
    return '[' + std::string(static_cast<std::size_t>(filled), '#') +
           std::string(static_cast<std::size_t>(width - filled), '.') + "] ";
  };
  // The parts after the bar, in the order they are dropped when the line is too wide (last
  // first): the count, the loss, the rate, elapsed, ETA.
  std::vector<std::string> parts;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%lld/%lld", static_cast<long long>(done_),
                static_cast<long long>(total_));
  parts.emplace_back(buf);
  if (loss_items_) {
    std::snprintf(buf, sizeof buf, "  loss %.4f", running_loss());
    parts.emplace_back(buf);
  }
  const double rate = t > 0 ? static_cast<double>(done_) / t : 0;
  std::snprintf(buf, sizeof buf, "  %.0f %s/s", rate, options_.unit.c_str());
  parts.emplace_back(buf);
  parts.push_back("  elapsed " + format_duration(t));
  parts.push_back("  ETA " +
                  format_duration(rate > 0 ? static_cast<double>(total_ - done_) / rate : 0));
  auto join = [&](std::size_t n) {
    std::string r;
    for (std::size_t i = 0; i < n; ++i) r += parts[i];
    return r;
  };
  std::string line;
  if (!in_place) {
    line = label + msg(static_cast<int>(100 * share + 1e-9), "% ") + join(parts.size());
  } else {
    // A line as wide as the terminal wraps on some, and every redraw then leaves a line behind:
    // stay one column short.
    const int columns = line_width();
    const auto fits = [&](const std::string& l) {
      return columns == 0 || static_cast<int>(l.size()) < columns;
    };
    std::size_t n = parts.size();
    line = label + bar(options_.width) + join(n);
    while (!fits(line) && n > 1) line = label + bar(options_.width) + join(--n);
    for (int w = options_.width; !fits(line) && w > 5;) line = label + bar(--w) + join(n);
    if (!fits(line)) line.resize(static_cast<std::size_t>(std::max(columns - 1, 0)));
  }
  if (in_place)
    std::fprintf(options_.out, "\r%s\x1b[K", line.c_str());  // erase what a longer line left
  else
    std::fprintf(options_.out, "%s\n", line.c_str());
  std::fflush(options_.out);
}

void ProgressBar::finish(bool clear) {
  if (finished_) return;
  finished_ = true;
  if (!terminal_) return;
  if (clear) {
    std::fprintf(options_.out, "\r\x1b[K");
  } else {
    draw(true);
    std::fprintf(options_.out, "\n");
  }
  std::fflush(options_.out);
}

}  // namespace tapegrad::train
