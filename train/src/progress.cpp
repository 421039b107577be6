#include "tapegrad/train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::train {
namespace {
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
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
  terminal_ = options_.terminal ? *options_.terminal : ::isatty(::fileno(options_.out)) == 1;
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

void ProgressBar::draw(bool in_place) {
  const double t = elapsed_seconds();
  const double share =
      total_ > 0 ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 1.0;
  std::string line = options_.label.empty() ? "" : options_.label + " ";
  if (in_place) {
    const int filled = static_cast<int>(options_.width * share);
    line += '[';
    line.append(static_cast<std::size_t>(filled), '#');
    line.append(static_cast<std::size_t>(options_.width - filled), '.');
    line += "] ";
  } else {
    line += msg(static_cast<int>(100 * share + 1e-9), "% ");
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "%lld/%lld", static_cast<long long>(done_),
                static_cast<long long>(total_));
  line += buf;
  if (loss_items_) {
    std::snprintf(buf, sizeof buf, "  loss %.4f", running_loss());
    line += buf;
  }
  const double rate = t > 0 ? static_cast<double>(done_) / t : 0;
  std::snprintf(buf, sizeof buf, "  %.0f %s/s  elapsed %s  ETA %s", rate, options_.unit.c_str(),
                format_duration(t).c_str(),
                format_duration(rate > 0 ? static_cast<double>(total_ - done_) / rate : 0).c_str());
  line += buf;
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
