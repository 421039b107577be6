// MetricsLog: CSV and JSON Lines round trips, appending on resume, a crash mid-epoch, and
// cutting back to a checkpoint's position.
#include <sys/wait.h>

#include <limits>

#include "helpers.h"

namespace {
std::string text_of(const std::string& path) {
  const std::vector<char> b = bytes_of(path);
  return std::string(b.begin(), b.end());
}

train::MetricsLogOptions options(const TempDir& d, bool append = false) {
  return {.csv = d.file("epochs.csv"),
          .steps_csv = d.file("steps.csv"),
          .jsonl = d.file("run.jsonl"),
          .config = {{"optimizer", "Adam"}, {"lr", "0.001"}},
          .append = append};
}
}  // namespace

TEST_CASE("MetricsLog: CSV and JSON Lines read back exactly, with the configuration") {
  TempDir d;
  const double third = 1.0 / 3, tiny = 1e-300, nan = std::numeric_limits<double>::quiet_NaN();
  {
    train::MetricsLog log(options(d));
    log.log_step({{"epoch", 1}, {"step", 1}, {"loss", third}});
    log.log_step({{"epoch", 1}, {"step", 2}, {"loss", tiny}});
    log.log_epoch({{"epoch", 1}, {"train_loss", 0.1}, {"val_loss", nan}});
    log.log_epoch({{"epoch", 2}, {"train_loss", -2.5e10}});  // val_loss left out: empty field
  }
  CHECK(text_of(d.file("epochs.csv")) ==
        "# tapegrad MetricsLog\n# optimizer: Adam\n# lr: 0.001\n"
        "epoch,train_loss,val_loss\n1,0.1,nan\n2,-2.5e+10,\n");
  for (const std::string& path : {d.file("epochs.csv"), d.file("run.jsonl")}) {
    INFO(path);
    const train::LogContents c = train::read_log(path);
    CHECK(c.config == train::Config{{"optimizer", "Adam"}, {"lr", "0.001"}});
    REQUIRE(c.epochs.size() == 2);
    CHECK(c.epochs[0].get("train_loss") == 0.1);
    CHECK(std::isnan(c.epochs[0].get("val_loss")));
    CHECK(c.epochs[1].get("train_loss") == -2.5e10);
  }
  const train::LogContents steps = train::read_log(d.file("steps.csv"), train::LogKind::Steps);
  REQUIRE(steps.steps.size() == 2);
  CHECK(steps.steps[0].get("loss") == third);  // bit for bit
  CHECK(steps.steps[1].get("loss") == tiny);
  const train::LogContents all = train::read_log(d.file("run.jsonl"));
  REQUIRE(all.steps.size() == 2);
  CHECK(all.steps[0].get("loss") == third);
  CHECK(text_of(d.file("run.jsonl")).find("{\"type\":\"config\",\"optimizer\":\"Adam\"") == 0);
}

TEST_CASE("MetricsLog: a resumed run appends, a new column is refused naming the file") {
  TempDir d;
  {
    train::MetricsLog log(options(d));
    log.log_epoch({{"epoch", 1}, {"loss", 0.5}});
  }
  {
    train::MetricsLog log(options(d, /*append=*/true));
    log.log_epoch({{"epoch", 2}, {"loss", 0.25}});
    CHECK_THROWS_WITH_AS(log.log_epoch({{"epoch", 3}, {"accuracy", 0.9}}),
                         doctest::Contains("epochs.csv: \"accuracy\" is not one of the file's "
                                           "columns"),
                         tg::ValueError);
  }
  const train::LogContents c = train::read_log(d.file("epochs.csv"));
  REQUIRE(c.epochs.size() == 2);
  CHECK(c.epochs[1].get("loss") == 0.25);
  const std::string jsonl = text_of(d.file("run.jsonl"));
  CHECK(jsonl.find("{\"type\":\"config\",\"resumed\":true") != std::string::npos);
  CHECK(train::read_log(d.file("run.jsonl")).epochs.size() == 2);
  {  // without append, the files start afresh
    train::MetricsLog log(options(d));
    log.log_epoch({{"epoch", 1}, {"loss", 1}});
  }
  CHECK(train::read_log(d.file("epochs.csv")).epochs.size() == 1);
}

TEST_CASE("MetricsLog: a crash mid-epoch leaves files that read, and that a resume continues") {
  TempDir d;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the run: one epoch, then steps until the process dies without flushing
    train::MetricsLog log(options(d));
    log.log_epoch({{"epoch", 1}, {"loss", 0.5}});
    for (int i = 0; i < 5000; ++i)
      log.log_step({{"step", i + 0.123456789}, {"loss", 1.0 / (i + 3)}});
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  // stdio wrote whole buffers, so the file most likely ends inside a line; make sure of it.
  {
    std::ofstream(d.file("steps.csv"), std::ios::app) << "12.5,0.";
    std::ofstream(d.file("run.jsonl"), std::ios::app) << "{\"type\":\"st";
  }
  CHECK(train::read_log(d.file("epochs.csv")).epochs.size() == 1);
  const auto s = train::read_log(d.file("steps.csv"), train::LogKind::Steps).steps;
  CHECK(s.size() < 5000);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < s.size(); ++i) wrong += s[i].get("step") != i + 0.123456789;
  CHECK(wrong == 0);
  const auto j = train::read_log(d.file("run.jsonl"));
  CHECK(j.epochs.size() == 1);

  {  // resuming drops the cut line and goes on
    train::MetricsLog log(options(d, true));
    log.log_step({{"step", 9999}, {"loss", 0}});
    log.log_epoch({{"epoch", 2}, {"loss", 0.25}});
  }
  const auto after = train::read_log(d.file("steps.csv"), train::LogKind::Steps).steps;
  REQUIRE(after.size() == s.size() + 1);
  CHECK(after.back().get("step") == 9999);
  CHECK(train::read_log(d.file("run.jsonl")).epochs.size() == 2);
  const std::string text = text_of(d.file("steps.csv"));
  CHECK(text.back() == '\n');
}

TEST_CASE("MetricsLog: position and truncate cut back to a checkpoint") {
  TempDir d;
  train::MetricsLog log(options(d));
  log.log_step({{"step", 1}});
  log.log_epoch({{"epoch", 1}});
  const train::LogPosition at1 = log.position();
  log.log_step({{"step", 2}});
  log.log_epoch({{"epoch", 2}});
  log.truncate(at1);
  log.log_epoch({{"epoch", 2.5}});
  log.flush();
  const auto c = train::read_log(d.file("run.jsonl"));
  REQUIRE(c.epochs.size() == 2);
  CHECK(c.epochs[1].get("epoch") == 2.5);
  CHECK(c.steps.size() == 1);
  CHECK(train::read_log(d.file("epochs.csv")).epochs.size() == 2);

  train::LogPosition past = log.position();
  past.csv += 1000;
  const std::string expected = "epochs.csv has " + std::to_string(past.csv - 1000) +
                               " bytes but the checkpoint's log position is " +
                               std::to_string(past.csv);
  CHECK_THROWS_WITH_AS(log.check_position(past), doctest::Contains(expected.c_str()), tg::IoError);
  CHECK_THROWS_AS(log.truncate(past), tg::IoError);
  CHECK(train::read_log(d.file("epochs.csv")).epochs.size() == 2);  // nothing cut
}

TEST_CASE("read_log: what it cannot read is named with file and line") {
  TempDir d;
  write_bytes(d.file("a.csv"), {'e', ',', 'l', '\n', '1', ',', 'x', '\n'});
  CHECK_THROWS_WITH_AS(train::read_log(d.file("a.csv")),
                       doctest::Contains("a.csv: line 2: \"x\" is not a number"), tg::IoError);
  write_bytes(d.file("b.jsonl"), {'{', '}', '\n'});
  CHECK_THROWS_WITH_AS(train::read_log(d.file("b.jsonl")),
                       doctest::Contains("b.jsonl: line 1: a record needs a \"type\""),
                       tg::IoError);
  write_bytes(d.file("c.jsonl"), {'n', 'o', '\n'});
  CHECK_THROWS_WITH_AS(train::read_log(d.file("c.jsonl")),
                       doctest::Contains("c.jsonl: line 1: not JSON"), tg::IoError);
  CHECK_THROWS_AS(train::read_log(d.file("missing.csv")), tg::IoError);
}

TEST_CASE("MetricsLog: names holding a comma, a quote or a line break are quoted, RFC 4180") {
  // Unquoted, such a name split its column in two (or its header line), so the file read back
  // with the wrong columns or not at all.
  TempDir d;
  const std::string csv = d.file("epochs.csv");
  const std::vector<std::string> names = {"epoch", "acc, top-5", "say \"hi\"", "two\nlines",
                                          "#hash"};
  {
    train::MetricsLog log({.csv = csv, .config = {{"note", "a, \"quoted\" value"}}});
    train::Record r;
    for (std::size_t i = 0; i < names.size(); ++i) r.set(names[i], static_cast<double>(i));
    log.log_epoch(r);
  }
  CHECK(text_of(csv) ==
        "# tapegrad MetricsLog\n# note: a, \"quoted\" value\n"
        "epoch,\"acc, top-5\",\"say \"\"hi\"\"\",\"two\nlines\",\"#hash\"\n0,1,2,3,4\n");
  const train::LogContents c = train::read_log(csv);
  CHECK(c.config == train::Config{{"note", "a, \"quoted\" value"}});
  REQUIRE(c.epochs.size() == 1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO(names[i]);
    CHECK(c.epochs[0].get(names[i]) == static_cast<double>(i));
  }
  {  // appending finds the quoted columns again
    train::MetricsLog log({.csv = csv, .append = true});
    train::Record r;
    for (std::size_t i = 0; i < names.size(); ++i) r.set(names[i], 10.0 + static_cast<double>(i));
    log.log_epoch(r);
  }
  const train::LogContents again = train::read_log(csv);
  REQUIRE(again.epochs.size() == 2);
  CHECK(again.epochs[1].get("two\nlines") == 13.0);
}

TEST_CASE("MetricsLog: a config entry that would break its CSV comment line is refused") {
  TempDir d;
  const std::string csv = d.file("epochs.csv");
  CHECK_THROWS_WITH_AS(
      train::MetricsLog({.csv = csv, .config = {{"cmd", "train\n--lr 1"}}}),
      doctest::Contains((csv + ": the config value of \"cmd\" holds a line break").c_str()),
      tg::ValueError);
  CHECK_THROWS_WITH_AS(train::MetricsLog({.csv = csv, .config = {{"a: b", "1"}}}),
                       doctest::Contains((csv + ": the config key \"a: b\" holds").c_str()),
                       tg::ValueError);
  CHECK_FALSE(std::filesystem::exists(csv));  // refused before any file was made
  // JSON Lines holds any text.
  train::MetricsLog jsonl({.jsonl = d.file("run.jsonl"), .config = {{"cmd", "train\n--lr 1"}}});
  jsonl.log_epoch({{"epoch", 1}});
  CHECK(train::read_log(d.file("run.jsonl")).config == train::Config{{"cmd", "train\n--lr 1"}});
}
