// fit(): the same numbers as the loop written by hand, callbacks that stop it, its records in
// the log, per-batch schedules, and what it prints.
#include "helpers.h"

namespace optim = tg::optim;

TEST_CASE("fit: the same parameters as the explicit loop, bit for bit") {
  Run by_hand;
  std::vector<double> losses;
  const std::vector<tg::Tensor> params = by_hand.net.parameters();
  for (int e = 0; e < 3; ++e) {
    double sum = 0;
    for (auto& [x, y] : by_hand.loader) {
      tg::Tensor loss = nn::functional::cross_entropy(by_hand.net(x), y);
      by_hand.opt.zero_grad();
      loss.backward();
      optim::clip_grad_norm_(params, 0.5);
      by_hand.opt.step();
      sum += loss.item() * static_cast<double>(x.size(0));
    }
    by_hand.sched.step();
    losses.push_back(sum / 40);
  }
  Run fitted;
  train::ScheduleStep sched(fitted.sched);
  const train::FitResult r =
      train::fit(fitted.net, fitted.opt, fitted.loader,
                 {.epochs = 3, .clip_norm = 0.5, .callbacks = {&sched}, .verbose = false});
  CHECK(fitted.params() == by_hand.params());
  CHECK(fitted.opt.lr() == by_hand.opt.lr());
  REQUIRE(r.epochs.size() == 3);
  for (int e = 0; e < 3; ++e) CHECK(r.epochs[e].get("train_loss") == losses[e]);
  CHECK(r.epochs[2].get("lr") == 0.025);  // StepLR(2, 0.5): epoch 3 ran at half the lr
  CHECK(r.progress.epoch == 3);
  CHECK(r.progress.step == 15);
  CHECK(!r.stopped);
  CHECK(fitted.net.is_training());
}

TEST_CASE("fit: sum_across_ranks makes the train loss the whole job's") {
  // A stand-in for the other rank of a 2-rank job: it saw as many samples with twice the loss.
  Run job;
  std::vector<std::vector<double>> passed;
  train::FitOptions o;  // assigned, not designated: GCC 12 warns on std::function members
  o.epochs = 2;
  o.verbose = false;
  o.sum_across_ranks = [&](std::span<double> v) {
    passed.emplace_back(v.begin(), v.end());
    v[0] *= 3;  // this rank's loss sum plus twice it
    v[1] *= 2;  // samples
  };
  const train::FitResult j = train::fit(job.net, job.opt, job.loader, o);
  REQUIRE(passed.size() == 2);
  for (int e = 0; e < 2; ++e) {
    CHECK(passed[e].size() == 2);
    CHECK(passed[e][1] == 40);  // the epoch's samples on this rank
    CHECK(j.epochs[e].get("train_loss") == doctest::Approx(1.5 * passed[e][0] / passed[e][1]));
  }
}

TEST_CASE("fit: callbacks see every batch and epoch, and any of them may stop it") {
  Run run;
  std::vector<std::int64_t> steps;
  train::LambdaCallback watch({.on_batch_end = [&](const train::BatchEnd& b) {
    steps.push_back(b.step);
    CHECK(b.size == 8);
    return train::Signal::Continue;
  }});
  train::LambdaCallback stop({.on_batch_end = [](const train::BatchEnd& b) {
    return b.step == 7 ? train::Signal::Stop : train::Signal::Continue;
  }});
  auto r = train::fit(run.net, run.opt, run.loader,
                      {.epochs = 5, .callbacks = {&stop, &watch}, .verbose = false});
  CHECK(r.stopped);
  CHECK(steps == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7});  // watch saw step 7 too
  CHECK(r.epochs.size() == 1);  // epoch 2 was cut short: no record
  CHECK(r.progress.epoch == 1);
  CHECK(r.progress.batch == 2);

  // Continuing from where it stopped finishes epoch 2 with the rest of its batches.
  steps.clear();
  train::LambdaCallback at_epoch({.on_epoch_end = [](const train::EpochEnd& e) {
    return e.epoch == 3 ? train::Signal::Stop : train::Signal::Continue;
  }});
  r = train::fit(
      run.net, run.opt, run.loader,
      {.epochs = 5, .callbacks = {&watch, &at_epoch}, .verbose = false, .start = r.progress});
  CHECK(steps.front() == 8);
  CHECK(r.stopped);
  CHECK(r.progress.epoch == 3);
  CHECK(r.progress.step == 15);
  REQUIRE(r.epochs.size() == 2);
  CHECK(r.epochs[0].get("epoch") == 2);
}

TEST_CASE("fit: EarlyStopping, validation metrics, the log and a per-batch schedule") {
  TempDir d;
  Run run;
  data::DataLoader val(run.ds, {.batch_size = 40});
  train::EarlyStopping early({.monitor = "val_loss", .patience = 2, .min_delta = 1e9});
  train::MetricsLog log({.csv = d.file("epochs.csv"), .steps_csv = d.file("steps.csv")});
  optim::StepLR per_batch(run.opt, 4, 0.5);
  train::ScheduleStep step_per_batch(per_batch, true);
  const auto r = train::fit(
      run.net, run.opt, run.loader,
      {.epochs = 10,
       .val_loader = &val,
       .val = {.metrics = {train::Metric::Accuracy, train::Metric::TopKAccuracy}, .top_k = 2},
       .callbacks = {&step_per_batch, &early, &log},
       .verbose = false});
  CHECK(r.stopped);
  CHECK(r.epochs.size() == 3);  // the first value, then two that do not beat it by 1e9
  CHECK(per_batch.last_epoch() == 15);
  const auto epochs = train::read_log(d.file("epochs.csv")).epochs;
  REQUIRE(epochs.size() == 3);
  std::vector<std::string> columns;
  for (const auto& [k, v] : epochs[0]) columns.push_back(k);
  CHECK(columns == std::vector<std::string>{"epoch", "train_loss", "val_loss", "val_accuracy",
                                            "val_top2_accuracy", "lr", "seconds"});
  CHECK(epochs[2].get("val_loss") == r.epochs[2].get("val_loss"));
  const auto steps = train::read_log(d.file("steps.csv"), train::LogKind::Steps).steps;
  REQUIRE(steps.size() == 15);
  CHECK(steps[14].get("step") == 15);
  CHECK(steps[4].get("lr") == 0.025);  // after 4 batches the per-batch StepLR halved it

  optim::ReduceLROnPlateau plateau(run.opt);
  train::PlateauStep plateau_step(plateau);
  CHECK_THROWS_WITH_AS(
      train::fit(
          run.net, run.opt, run.loader,
          {.epochs = 11, .callbacks = {&plateau_step}, .verbose = false, .start = r.progress}),
      doctest::Contains("no metric named \"val_loss\""), tg::ValueError);
}

TEST_CASE("fit: regression with the default loss, the lines it prints, bad options") {
  tg::Generator gen(3);
  tg::Tensor x = tg::randn({32, 3}, {.dtype = tg::kFloat64}, &gen);
  tg::Tensor y = x.matmul(tg::tensor({1.0, -2.0, 0.5}, {3, 1}).to(tg::kFloat64));
  data::TensorDataset ds(x, y);
  data::DataLoader loader(ds, {.batch_size = 32});
  nn::Linear model(3, 1, true, &gen);
  model.to(tg::kFloat64);
  optim::SGD opt(model.parameters(), {.lr = 0.1});
  train::Printer lines({.bars = false});
  const std::string out = output_of(1, [&] {
    const auto r =
        train::fit(model, opt, loader, {.epochs = 50, .callbacks = {&lines}, .verbose = false});
    CHECK(r.epochs.back().get("train_loss") < 1e-3 * r.epochs.front().get("train_loss"));
  });
  CHECK(out.find("epoch 1/50  train_loss ") == 0);
  CHECK(out.find("  lr 0.1  ") != std::string::npos);
  CHECK(out.find("\nepoch 50/50  train_loss ") != std::string::npos);
  CHECK(out.back() == '\n');

  CHECK_THROWS_WITH_AS(train::fit(model, opt, loader, {.epochs = -1}),
                       "fit: epochs must be >= 0, got -1", tg::ValueError);
  CHECK_THROWS_WITH_AS(train::fit(model, opt, loader, {.clip_norm = -1}),
                       "fit: clip_norm must be >= 0, got -1", tg::ValueError);
  CHECK_THROWS_WITH_AS(train::fit(model, opt, loader, {.callbacks = {nullptr}}),
                       "fit: a callback is null", tg::ValueError);
  CHECK_THROWS_WITH_AS(
      train::fit(model, opt, loader, {.start = {.epoch = 0, .step = 0, .batch = 2}}),
      "DataLoader::set_epoch: first batch 2 is not in [0, 1]", tg::ValueError);
}

TEST_CASE("fit: resuming through its Checkpointer prints where it continues") {
  TempDir d;
  {
    Run run;
    train::Checkpointer ckpt(run.net, run.opt, &run.sched,
                             {.dir = d.path.string(), .every_steps = 3});
    train::ScheduleStep sched(run.sched);
    train::LambdaCallback stop({.on_batch_end = [](const train::BatchEnd& b) {
      return b.step == 8 ? train::Signal::Stop : train::Signal::Continue;
    }});
    train::fit(run.net, run.opt, run.loader,
               {.epochs = 3, .callbacks = {&sched, &stop, &ckpt}, .verbose = false});
  }
  Run run;
  train::Checkpointer ckpt(run.net, run.opt, &run.sched,
                           {.dir = d.path.string(), .every_steps = 3});
  train::ScheduleStep sched(run.sched);
  train::Printer lines({.bars = false});
  train::FitResult r;
  const std::string out = output_of(1, [&] {
    r = train::fit(run.net, run.opt, run.loader,
                   {.epochs = 3, .callbacks = {&lines, &sched, &ckpt}, .verbose = false});
  });
  CHECK(out.find("resumed from " + d.path.string() +
                 "/checkpoint-e0001-s00000006.tg after epoch 1, batch 1 of the next (step 6)\n") ==
        0);
  CHECK(r.progress.step == 15);
}

TEST_CASE("fit: a Checkpointer saves after the other callbacks, wherever it is listed") {
  // Listed before the schedule, it still saves the schedule as stepped at that epoch's end, so
  // a resume from it continues as the uninterrupted run.
  TempDir d;
  {
    Run run;
    train::Checkpointer ckpt(run.net, run.opt, &run.sched, {.dir = d.path.string()});
    train::ScheduleStep sched(run.sched);
    train::fit(run.net, run.opt, run.loader,
               {.epochs = 2, .callbacks = {&ckpt, &sched}, .verbose = false});
    const tg::Archive last = tg::Archive::load(ckpt.checkpoints().back());
    CHECK(last.get_int64("sched.last_epoch") == 2);
    CHECK(last.get_double("optim.group.0.lr") == run.opt.lr());
  }
}
