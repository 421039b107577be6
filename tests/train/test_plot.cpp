// plot: real PNG files (signature, dimensions, more than a blank image) through gnuplot, and a
// message instead of a failure when gnuplot is missing.
#include <cstdlib>
#include <cstring>

#include "helpers.h"

namespace {
struct Png {
  bool valid = false;
  std::uint32_t width = 0, height = 0;
  std::size_t bytes = 0;
};

Png read_png(const std::string& path) {
  const std::vector<char> b = bytes_of(path);
  Png p;
  p.bytes = b.size();
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() < 24 || std::memcmp(b.data(), sig, 8) != 0 || std::memcmp(&b[12], "IHDR", 4) != 0)
    return p;
  auto be32 = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[i])) << 24 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[i + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[i + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[i + 3]));
  };
  p.valid = true;
  p.width = be32(16);
  p.height = be32(20);
  return p;
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

train::LogContents a_log() {
  train::LogContents log;
  for (int e = 1; e <= 6; ++e)
    log.epochs.push_back({{"epoch", e},
                          {"train_loss", 1.0 / e},
                          {"val_loss", 1.2 / e + 0.05},
                          {"val_accuracy", 0.6 + 0.05 * e}});
  return log;
}

// Runs f with PATH pointing nowhere, so no gnuplot is found.
template <typename F>
void without_gnuplot(F f) {
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/nonexistent", 1);
  f();
  ::setenv("PATH", path.c_str(), 1);
}
}  // namespace

TEST_CASE("plot_curves and plot_confusion write PNG files of the asked size") {
  if (!have_gnuplot()) {
    // .ci/run installs gnuplot-nox (scripts/setup.sh); elsewhere the missing case is checked.
    MESSAGE("gnuplot is not installed: only the missing-gnuplot path is tested");
    return;
  }
  TempDir d;
  REQUIRE(train::plot_curves(a_log(), d.file("plots"), {.title = "it's a run"}));
  for (const char* name : {"loss.png", "accuracy.png"}) {
    INFO(name);
    const Png p = read_png(d.file(std::string("plots/") + name));
    CHECK(p.valid);
    CHECK(p.width == 900);
    CHECK(p.height == 560);
    CHECK(p.bytes > 5000);  // axes, curves and labels; a blank 900x560 one is 2.8 KB
  }
  CHECK(std::filesystem::exists(d.file("plots/loss.png.gp")));

  // From a file: a CSV log with only losses gives no accuracy plot.
  {
    train::MetricsLog log({.csv = d.file("log.csv")});
    log.log_epoch({{"epoch", 1}, {"train_loss", 0.5}});
    log.log_epoch({{"epoch", 2}, {"train_loss", 0.25}});
  }
  REQUIRE(train::plot_curves(d.file("log.csv"), d.file("fromfile")));
  CHECK(read_png(d.file("fromfile/loss.png")).valid);
  CHECK(!std::filesystem::exists(d.file("fromfile/accuracy.png")));
  {  // from a MetricsLog in use, writing JSON Lines only: flushed, then read
    train::MetricsLog log({.jsonl = d.file("live.jsonl")});
    log.log_step({{"step", 1}, {"loss", 2}});
    log.log_epoch({{"epoch", 1}, {"train_loss", 0.5}, {"val_accuracy", 0.5}});
    REQUIRE(train::plot_curves(log, d.file("live")));
    CHECK(read_png(d.file("live/accuracy.png")).valid);
    train::MetricsLog steps_only({.steps_csv = d.file("steps.csv")});
    CHECK_THROWS_WITH_AS(
        train::plot_curves(steps_only, d.file("none")),
        "plot_curves: the MetricsLog writes no epoch records (no csv or jsonl file)",
        tg::ValueError);
  }

  const std::vector<std::vector<std::int64_t>> m = {{50, 2, 1}, {3, 40, 7}, {0, 5, 45}};
  REQUIRE(train::plot_confusion(m, d.file("confusion.png"), {"cat", "dog", "bird's"},
                                {.width = 480, .height = 400}));
  const Png p = read_png(d.file("confusion.png"));
  CHECK(p.valid);
  CHECK(p.width == 480);
  CHECK(p.height == 400);
  CHECK(p.bytes > 3000);
}

TEST_CASE("plot: without gnuplot, a message and false instead of a failure") {
  TempDir d;
  std::string err;
  without_gnuplot([&] {
    err = stderr_of([&] {
      CHECK(!train::plot_curves(a_log(), d.path.string()));
      CHECK(!train::plot_confusion({{1, 0}, {0, 1}}, d.file("c.png")));
    });
  });
  CHECK(err.find("plot: gnuplot is not installed, so " + d.file("loss.png") +
                 " was not drawn (apt-get install gnuplot-nox; scripts/setup.sh does)") == 0);
  CHECK(err.find("c.png was not drawn") != std::string::npos);
  CHECK(!std::filesystem::exists(d.file("loss.png")));
}

TEST_CASE("plot: what cannot be plotted is named") {
  TempDir d;
  CHECK_THROWS_WITH_AS(train::plot_curves(train::LogContents{}, d.path.string()),
                       "plot_curves: the log has no epoch records", tg::ValueError);
  train::LogContents no_curves;
  no_curves.epochs.push_back({{"epoch", 1}, {"lr", 0.1}});
  CHECK_THROWS_WITH_AS(train::plot_curves(no_curves, d.path.string()),
                       "plot_curves: the log has no *_loss or *_accuracy columns", tg::ValueError);
  CHECK_THROWS_WITH_AS(train::plot_confusion({{1, 2}, {3}}, d.file("c.png")),
                       "plot_confusion: the matrix must be square; row 1 has 1 columns, there "
                       "are 2 rows",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(train::plot_confusion({{1}}, d.file("c.png"), {"a", "b"}),
                       "plot_confusion: 2 class names for 1 classes", tg::ValueError);
}
