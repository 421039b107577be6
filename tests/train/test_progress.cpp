// ProgressBar: plain lines through a pipe, one line redrawn in place on a pseudo-terminal.
#include <poll.h>
#include <pty.h>
#include <termios.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "helpers.h"

namespace {
// Everything readable from fd now (the writer has finished).
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 100) > 0 && (p.revents & POLLIN)) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// The output of `run` when the bar writes into a pipe.
template <typename Run>
std::string through_pipe(Run run) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::FILE* w = ::fdopen(fds[1], "w");
  run(w);
  std::fclose(w);
  const std::string out = drain(fds[0]);
  ::close(fds[0]);
  return out;
}

std::size_t count(const std::string& s, char c) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), c));
}

// A pseudo-terminal pair in raw mode (bytes as written), optionally with a window size; says
// what the environment lacks when none can be opened.
struct Pty {
  int master = -1, slave = -1;
  explicit Pty(unsigned short columns = 0) {
    winsize ws{};
    ws.ws_row = 24;
    ws.ws_col = columns;
    if (::openpty(&master, &slave, nullptr, nullptr, columns ? &ws : nullptr) != 0)
      FAIL("cannot open a pseudo-terminal (openpty: " << std::strerror(errno)
                                                      << "): this environment lacks /dev/ptmx "
                                                         "or a mounted /dev/pts, which the test "
                                                         "needs");
    termios t{};
    ::tcgetattr(slave, &t);
    ::cfmakeraw(&t);  // bytes as written: no \n to \r\n translation
    ::tcsetattr(slave, TCSANOW, &t);
  }
};

// The redrawn lines in a terminal's output, without their "\r" and "erase to the end of line".
std::vector<std::string> redrawn_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while ((at = out.find('\r', at)) != std::string::npos) {
    std::size_t end = out.find('\x1b', at);
    if (end == std::string::npos) end = out.size();
    if (end > at + 1) lines.push_back(out.substr(at + 1, end - at - 1));
    at = end;
  }
  return lines;
}

bool has_control_characters(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c != '\n' && static_cast<unsigned char>(c) < 0x20; });
}
}  // namespace

TEST_CASE("ProgressBar: off a terminal, one plain line per tenth and no control characters") {
  const std::string out = through_pipe([](std::FILE* f) {
    train::ProgressBar bar(1000, {.label = "epoch 1/3", .out = f});
    CHECK(!bar.terminal());
    for (int i = 0; i < 1000; ++i) bar.update(1, 0.5);
    bar.finish();
  });
  INFO(out);
  CHECK(count(out, '\n') == 10);
  CHECK(!has_control_characters(out));
  CHECK(out.find("epoch 1/3 10% 100/1000  loss 0.5000  ") == 0);
  CHECK(out.find("epoch 1/3 100% 1000/1000  loss 0.5000") != std::string::npos);
  CHECK(out.find("samples/s  elapsed ") != std::string::npos);
}

TEST_CASE("ProgressBar: coarse updates print one line per crossing, line_every configures") {
  const std::string coarse = through_pipe([](std::FILE* f) {
    train::ProgressBar bar(10, {.out = f});
    bar.update(4);
    bar.update(4);
    bar.update(2);
  });
  CHECK(count(coarse, '\n') == 3);
  CHECK(coarse.find("40% 4/10") == 0);
  CHECK(coarse.find("loss") == std::string::npos);  // no loss given
  const std::string quarters = through_pipe([](std::FILE* f) {
    train::ProgressBar bar(100, {.line_every = 0.25, .out = f});
    for (int i = 0; i < 100; ++i) bar.update(1, 1.0 + i);
    CHECK(bar.running_loss() == doctest::Approx(50.5));
  });
  CHECK(count(quarters, '\n') == 4);
  const std::string none = through_pipe([](std::FILE* f) {
    train::ProgressBar bar(100, {.line_every = 0, .out = f});
    for (int i = 0; i < 100; ++i) bar.update(1);
  });
  CHECK(none.empty());
}

TEST_CASE("ProgressBar: on a pseudo-terminal, one line redrawn in place, throttled") {
  const Pty pty;
  const int master = pty.master;
  std::FILE* f = ::fdopen(pty.slave, "w");
  {
    train::ProgressBar bar(20, {.label = "epoch 2/5", .redraw_seconds = 0, .out = f});
    CHECK(bar.terminal());
    for (int i = 0; i < 20; ++i) bar.update(1, 0.25);
  }  // the destructor finishes: the line is cleared
  std::string out = drain(master);
  INFO(out);
  CHECK(count(out, '\n') == 0);
  CHECK(count(out, '\r') == 21);  // 20 draws and the clear
  CHECK(out.find("\repoch 2/5 [#.......................] 1/20  loss 0.2500") == 0);
  CHECK(out.find("[########################] 20/20") != std::string::npos);
  CHECK(out.substr(out.size() - 4) == "\r\x1b[K");

  {  // throttled: only the last update draws; finish(false) keeps the line
    train::ProgressBar bar(1000, {.redraw_seconds = 3600, .out = f});
    for (int i = 0; i < 1000; ++i) bar.update(1);
    bar.finish(false);
  }
  out = drain(master);
  CHECK(count(out, '\r') == 2);  // the last update's draw and finish's
  CHECK(count(out, '\n') == 1);
  std::fclose(f);
  ::close(master);
}

TEST_CASE("ProgressBar: bad options are named, durations read as a person writes them") {
  CHECK_THROWS_WITH_AS(train::ProgressBar(-1), "ProgressBar: total must be >= 0, got -1",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(train::ProgressBar(5, {.line_every = 2}),
                       "ProgressBar: line_every must be in [0, 1], got 2", tg::ValueError);
  CHECK_THROWS_WITH_AS(train::ProgressBar(5, {.width = 0}),
                       "ProgressBar: width must be in [1, 200], got 0", tg::ValueError);
  CHECK(train::format_duration(0.42) == "0.4s");
  CHECK(train::format_duration(59.94) == "59.9s");
  CHECK(train::format_duration(245) == "4:05");
  CHECK(train::format_duration(3723) == "1:02:03");
  CHECK(train::format_duration(-1) == "?");
}

TEST_CASE("ProgressBar: a redrawn line fits the terminal's width, so it never wraps") {
  // A line wider than the terminal wrapped, and every redraw then left a line behind.
  const Pty pty(40);
  std::FILE* f = ::fdopen(pty.slave, "w");
  {
    train::ProgressBar bar(20, {.label = "epoch 12/15", .redraw_seconds = 0, .out = f});
    REQUIRE(bar.terminal());
    for (int i = 0; i < 20; ++i) bar.update(1, 0.25);
    bar.finish(false);
  }
  const std::vector<std::string> lines = redrawn_lines(drain(pty.master));
  REQUIRE(lines.size() == 21);
  for (const std::string& l : lines) {
    INFO(l);
    CHECK(l.size() <= 39);
    CHECK(l.find("epoch 12/15 [") == 0);  // the label and the bar stay; the tail goes first
  }
  CHECK(lines.back().find("] 20/20") != std::string::npos);
  std::fclose(f);
  ::close(pty.master);

  // A set width wins over the terminal's; a very narrow one cuts the text itself.
  const std::string narrow = through_pipe([](std::FILE* out) {
    train::ProgressBar bar(5, {.label = "a long label for a narrow terminal",
                               .redraw_seconds = 0,
                               .out = out,
                               .terminal = true,
                               .columns = 12});
    for (int i = 0; i < 5; ++i) bar.update(1);
  });
  for (const std::string& l : redrawn_lines(narrow)) CHECK(l == "a long labe");
  CHECK_THROWS_WITH_AS(train::ProgressBar(5, {.columns = -1}),
                       "ProgressBar: columns must be >= 0, got -1", tg::ValueError);
}

TEST_CASE("ProgressBar: under an MPI launcher, a terminal gets lines unless asked to redraw") {
  // mpiexec gives rank 0 a pseudo-terminal even when the job's output goes to a file, where
  // redrawn lines would end up.
  const Pty pty;
  std::FILE* f = ::fdopen(pty.slave, "w");
  CHECK(train::ProgressBar(10, {.out = f}).terminal());
  ::setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  CHECK_FALSE(train::ProgressBar(10, {.out = f}).terminal());
  ::setenv("TAPEGRAD_PROGRESS", "redraw", 1);
  CHECK(train::ProgressBar(10, {.out = f}).terminal());
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  ::setenv("TAPEGRAD_PROGRESS", "lines", 1);
  CHECK_FALSE(train::ProgressBar(10, {.out = f}).terminal());
  ::unsetenv("TAPEGRAD_PROGRESS");
  std::fclose(f);
  ::close(pty.master);
}
