// Checkpointer: keep-last-k and keep-best on a scripted metric, resume from every kept file
// (epoch boundaries and mid-epoch) bit-identical to the uninterrupted run (an MLP with dropout;
// a CNN with BatchNorm's running statistics and Dropout2d), a corrupt newest file
// skipped with a message, and bad entries refused before anything changes.
#include <filesystem>

#include "helpers.h"

namespace fs = std::filesystem;

namespace {
std::vector<std::string> names(const std::vector<std::string>& paths) {
  std::vector<std::string> r;
  for (const auto& p : paths) r.push_back(fs::path(p).filename().string());
  return r;
}
}  // namespace

TEST_CASE("Checkpointer: keeps the last k and the best by a scripted metric") {
  TempDir d;
  Run run;
  train::Checkpointer ckpt(run.net, run.opt, &run.sched,
                           {.dir = d.file("ck"), .keep_last = 2, .best_metric = "val_loss"});
  const std::vector<double> val_loss = {0.5, 0.4, 0.45, 0.3, 0.35};
  for (std::size_t e = 0; e < val_loss.size(); ++e) {
    const train::Progress p{static_cast<std::int64_t>(e + 1),
                            static_cast<std::int64_t>(5 * (e + 1))};
    CHECK(!ckpt.on_epoch(p, {{"epoch", e + 1.0}, {"val_loss", val_loss[e]}}).empty());
  }
  CHECK(names(ckpt.checkpoints()) ==
        std::vector<std::string>{"checkpoint-e0004-s00000020.tg", "checkpoint-e0005-s00000025.tg"});
  CHECK(*ckpt.best() == 0.3);
  Run other;
  CHECK(train::load_checkpoint(ckpt.best_path(), other.net, other.opt, &other.sched).epoch == 4);

  // Max mode and by steps: every third step, keeping three.
  train::Checkpointer steps(run.net, run.opt, nullptr,
                            {.dir = d.file("st"),
                             .prefix = "s",
                             .every_epochs = 0,
                             .every_steps = 3,
                             .keep_last = 3,
                             .best_metric = "acc",
                             .best_mode = train::Mode::Max});
  for (std::int64_t s = 1; s <= 10; ++s) CHECK(steps.on_step({0, s, s}).empty() == (s % 3 != 0));
  CHECK(names(steps.checkpoints()) == std::vector<std::string>{"s-e0000-s00000003.tg",
                                                               "s-e0000-s00000006.tg",
                                                               "s-e0000-s00000009.tg"});
  steps.on_epoch({1, 10}, {{"acc", 0.5}});
  steps.on_epoch({2, 20}, {{"acc", 0.4}});
  CHECK(*steps.best() == 0.5);
  CHECK(train::load_checkpoint(steps.best_path(), other.net, other.opt).step == 10);
}

TEST_CASE("Checkpointer: resuming from every kept checkpoint continues bit-identically") {
  TempDir d;
  const train::CheckpointerOptions every{
      .dir = d.path.string(), .every_epochs = 1, .every_steps = 7, .keep_last = 20};
  std::vector<std::vector<double>> uninterrupted;
  std::vector<std::string> files;
  {
    Run run;
    train::Checkpointer ckpt(run.net, run.opt, &run.sched, every);
    train::ScheduleStep sched(run.sched);
    const auto r = train::fit(run.net, run.opt, run.loader,
                              {.epochs = 8, .callbacks = {&sched, &ckpt}, .verbose = false});
    CHECK(r.progress.step == 40);
    uninterrupted = run.params();
    files = ckpt.checkpoints();
  }
  // 8 epochs of 5 batches: saved at the 8 epoch ends and at steps 7, 14, 21, 28 (mid-epoch);
  // step 35 is an epoch end, where the epoch's checkpoint replaces the step's.
  CHECK(files.size() == 12);
  for (const std::string& f : files) {
    INFO(f);
    Run fresh;
    train::Checkpointer ckpt(fresh.net, fresh.opt, &fresh.sched, every);
    ckpt.attach(fresh.loader);
    const train::Progress p = ckpt.resume(f);
    CHECK(p.step > 0);
    train::ScheduleStep sched(fresh.sched);
    train::fit(fresh.net, fresh.opt, fresh.loader,
               {.epochs = 8, .callbacks = {&sched}, .verbose = false, .start = p});
    CHECK(fresh.params() == uninterrupted);
  }
}

TEST_CASE("Checkpointer: a CNN with BatchNorm and Dropout2d resumes bit-identically, buffers too") {
  const auto images = [] {
    tg::Generator gen(12);
    tg::Tensor x = tg::randn({40, 1, 6, 6}, {.dtype = tg::kFloat64}, &gen);
    std::vector<std::int64_t> y(40);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int64_t>(i * 5 % 3);
    return data::TensorDataset(x, tg::from_vector(y, {40}));
  };
  const auto cnn = [] {
    tg::Generator gen(6);
    nn::Sequential m(nn::Conv2d(1, 4, 3, {.padding = 1}, true, &gen), nn::BatchNorm2d(4),
                     nn::ReLU(), nn::Dropout2d(0.3), nn::MaxPool2d({.kernel_size = 2}),
                     nn::Flatten(), nn::Linear(4 * 3 * 3, 3, true, &gen));
    m.to(tg::kFloat64);
    return m;
  };
  TempDir d;
  const train::CheckpointerOptions every{
      .dir = d.path.string(), .every_epochs = 0, .every_steps = 3, .keep_last = 20};
  std::vector<std::vector<double>> uninterrupted;
  std::vector<std::string> files;
  {
    Run run(images(), cnn());
    train::Checkpointer ckpt(run.net, run.opt, &run.sched, every);
    train::ScheduleStep sched(run.sched);
    train::fit(run.net, run.opt, run.loader,
               {.epochs = 4, .callbacks = {&sched, &ckpt}, .verbose = false});
    uninterrupted = run.state();
    files = ckpt.checkpoints();
  }
  REQUIRE(files.size() == 6);        // steps 3, 6, ..., 18 of 20: mid-epoch and epoch ends
  CHECK(uninterrupted.size() == 9);  // conv w, b; bn w, b, mean, var, count; linear w, b
  for (const std::string& f : {files[1], files[4]}) {
    INFO(f);
    Run fresh(images(), cnn());
    train::Checkpointer ckpt(fresh.net, fresh.opt, &fresh.sched, every);
    ckpt.attach(fresh.loader);
    const train::Progress p = ckpt.resume(f);
    train::ScheduleStep sched(fresh.sched);
    train::fit(fresh.net, fresh.opt, fresh.loader,
               {.epochs = 4, .callbacks = {&sched}, .verbose = false, .start = p});
    CHECK(fresh.state() == uninterrupted);
  }
}

TEST_CASE("Checkpointer: a corrupt newest checkpoint falls back to the previous one") {
  TempDir d;
  Run run;
  train::Checkpointer ckpt(run.net, run.opt, &run.sched, {.dir = d.path.string()});
  train::fit(run.net, run.opt, run.loader, {.epochs = 3, .callbacks = {&ckpt}, .verbose = false});
  const std::vector<std::string> files = ckpt.checkpoints();
  REQUIRE(files.size() == 3);
  std::vector<char> bytes = bytes_of(files.back());
  bytes.resize(bytes.size() / 2);
  write_bytes(files.back(), bytes);

  Run fresh;
  train::Checkpointer again(fresh.net, fresh.opt, &fresh.sched, {.dir = d.path.string()});
  std::optional<train::Progress> p;
  const std::string err = stderr_of([&] { p = again.resume(); });
  REQUIRE(p);
  CHECK(p->epoch == 2);
  CHECK(again.resumed_from() == files[1]);
  CHECK(err.find("Checkpointer: skipping " + files.back() + ": ") == 0);

  // None loads: an error naming each; none at all: a fresh start.
  for (const std::string& f : files) write_bytes(f, {'x'});
  Run third;
  train::Checkpointer none(third.net, third.opt, &third.sched, {.dir = d.path.string()});
  const auto before = third.params();
  std::string what;
  stderr_of([&] {
    try {
      none.resume();
    } catch (const tg::IoError& e) {
      what = e.what();
    }
  });
  CHECK(what.find("Checkpointer: no checkpoint in " + d.path.string() + " loads:") == 0);
  CHECK(what.find(files[0]) != std::string::npos);
  CHECK(third.params() == before);
  TempDir empty;
  train::Checkpointer fresh_start(third.net, third.opt, nullptr, {.dir = empty.path.string()});
  CHECK(!fresh_start.resume());
}

TEST_CASE("Checkpointer: a bad entry of its own is named and changes nothing") {
  TempDir d;
  Run run;
  train::MetricsLog log({.csv = d.file("log.csv")});
  train::Checkpointer ckpt(run.net, run.opt, &run.sched, {.dir = d.file("ck")});
  ckpt.attach(log);
  train::fit(run.net, run.opt, run.loader,
             {.epochs = 2, .callbacks = {&log, &ckpt}, .verbose = false});
  const std::string good = ckpt.checkpoints().back();

  auto corrupt = [&](const std::string& name, const tg::Tensor& value) {
    tg::Archive ar = tg::Archive::load(good);
    ar.put(name, value);
    const std::string bad = d.file("bad.tg");
    ar.save(bad);
    return bad;
  };
  Run fresh;
  train::MetricsLog fresh_log({.csv = d.file("log.csv"), .append = true});
  train::Checkpointer again(fresh.net, fresh.opt, &fresh.sched, {.dir = d.file("ck2")});
  again.attach(fresh.loader);
  again.attach(fresh_log);
  const auto before = fresh.params();
  const double lr = fresh.opt.lr();
  const std::string shape = corrupt("train.log.position", tg::zeros({2}, {.dtype = tg::kInt64}));
  CHECK_THROWS_WITH_AS(again.resume(shape),
                       doctest::Contains("'train.log.position' must be int64 (3), got int64 [2]"),
                       tg::ValueError);
  const std::string past =
      corrupt("train.log.position", tg::tensor({1e6, 0, 0}, {3}, {.dtype = tg::kInt64}));
  CHECK_THROWS_WITH_AS(again.resume(past), doctest::Contains("log.csv has"), tg::ValueError);
  const std::string best = corrupt("train.best", tg::scalar_tensor(NAN, {.dtype = tg::kFloat64}));
  CHECK_THROWS_WITH_AS(again.resume(best), doctest::Contains("bad.tg"), tg::ValueError);
  CHECK(fresh.params() == before);
  CHECK(fresh.opt.lr() == lr);
  CHECK(train::read_log(d.file("log.csv")).epochs.size() == 2);

  // The good file: the log is cut back to the checkpoint (which it already matches).
  CHECK(again.resume(good).epoch == 2);
  CHECK(train::read_log(d.file("log.csv")).epochs.size() == 2);
}

TEST_CASE("Checkpointer: a new run in the folder replaces an earlier run's checkpoints") {
  TempDir d;
  {
    Run run;
    train::Checkpointer ckpt(run.net, run.opt, nullptr, {.dir = d.path.string(), .keep_last = 5});
    train::fit(run.net, run.opt, run.loader, {.epochs = 3, .callbacks = {&ckpt}, .verbose = false});
  }
  Run run;
  train::Checkpointer ckpt(run.net, run.opt, nullptr,
                           {.dir = d.path.string(), .keep_last = 5, .resume = false});
  const std::string err = stderr_of([&] {
    train::fit(run.net, run.opt, run.loader, {.epochs = 1, .callbacks = {&ckpt}, .verbose = false});
  });
  CHECK(err.find("removing 3 checkpoint(s) of an earlier run") != std::string::npos);
  CHECK(names(ckpt.checkpoints()) == std::vector<std::string>{"checkpoint-e0001-s00000005.tg"});
  // A reader (write = false) resumes but never writes or deletes.
  Run reader_run;
  train::Checkpointer reader(
      reader_run.net, reader_run.opt, nullptr,
      {.dir = d.path.string(), .keep_last = 5, .write = false, .resume = false});
  CHECK(reader.resume()->epoch == 1);
  CHECK(reader_run.params() == run.params());
  train::fit(reader_run.net, reader_run.opt, reader_run.loader,
             {.epochs = 3, .callbacks = {&reader}, .verbose = false});
  CHECK(names(ckpt.checkpoints()) == std::vector<std::string>{"checkpoint-e0001-s00000005.tg"});
  CHECK_THROWS_AS(reader.save({}), tg::StateError);
  CHECK_THROWS_WITH_AS(train::Checkpointer(run.net, run.opt, nullptr, {.keep_last = 0}),
                       "Checkpointer: keep_last must be >= 1, got 0", tg::ValueError);
}

TEST_CASE("Checkpointer: a model-only one saves no optimizer and resumes the model alone") {
  TempDir d;
  Run run;
  train::Checkpointer model_only(run.net, {.dir = d.file("model"), .verbose = false});
  train::Checkpointer whole(run.net, run.opt, &run.sched, {.dir = d.file("whole")});
  CHECK(model_only.model_only());
  CHECK(!whole.model_only());
  CHECK(&model_only.model() == &run.net);
  train::fit(run.net, run.opt, run.loader,
             {.epochs = 2, .callbacks = {&model_only, &whole}, .verbose = false});
  const std::string file = model_only.checkpoints().back();
  const tg::Archive ar = tg::Archive::load(file);
  CHECK(ar.names_with_prefix("optim.").empty());
  CHECK(ar.names_with_prefix("sched.").empty());
  CHECK(ar.get_int64("progress.epoch") == 2);

  // The model from its own file or from a whole run's; the optimizer is left alone.
  for (const std::string& from : {file, whole.checkpoints().back()}) {
    Run fresh;
    const double lr = fresh.opt.lr();
    train::Checkpointer again(fresh.net, {.dir = d.file("model"), .verbose = false});
    CHECK(again.resume(from).epoch == 2);
    CHECK(fresh.state() == run.state());
    CHECK(fresh.opt.lr() == lr);
    CHECK(fresh.opt.state(0).step == 0);
  }

  // A whole-run Checkpointer needs the optimizer's state a model-only file lacks.
  Run fresh;
  const auto before = fresh.params();
  train::Checkpointer needs_opt(fresh.net, fresh.opt, nullptr, {.dir = d.file("model")});
  CHECK_THROWS_WITH_AS(needs_opt.resume(file),
                       doctest::Contains("Adam: cannot load state: no 'optim.type' entry"),
                       tg::ValueError);
  CHECK(fresh.params() == before);
}
