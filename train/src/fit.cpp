// fit(): the loop of examples/mnist_mlp.cpp as it was written by hand, with each piece of
// furniture optional.
#include "tapegrad/train/fit.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/optim/clip.h"
#include "tapegrad/train/progress.h"

namespace tapegrad::train {
namespace {
using Clock = std::chrono::steady_clock;

bool any_stop(const std::vector<Callback*>& callbacks, auto&& call) {
  bool stop = false;
  for (Callback* c : callbacks) stop |= call(*c) == Signal::Stop;  // every callback sees it
  return stop;
}
}  // namespace

FitResult fit(nn::Module& model, optim::Optimizer& opt, data::DataLoader& loader, FitOptions o) {
  if (o.epochs < 0) throw ValueError(msg("fit: epochs must be >= 0, got ", o.epochs));
  if (o.clip_norm < 0) throw ValueError(msg("fit: clip_norm must be >= 0, got ", o.clip_norm));
  if (o.start.epoch < 0 || o.start.step < 0 || o.start.batch < 0)
    throw ValueError(msg("fit: start is negative: epoch ", o.start.epoch, ", step ", o.start.step,
                         ", batch ", o.start.batch));
  for (const Callback* c : o.callbacks)
    if (!c) throw ValueError("fit: a callback is null");
  FitResult result;
  Progress& p = result.progress;
  p = o.start;
  if (o.checkpoint) {
    // The loader's order and the log's position travel in the checkpoints; a resume restores
    // both (the loader at the checkpoint's epoch and batch).
    o.checkpoint->attach(loader);
    if (o.log) o.checkpoint->attach(*o.log);
    if (o.resume)
      if (const auto restored = o.checkpoint->resume()) {
        p = *restored;
        if (o.print_epochs || o.progress)
          std::printf("resumed from %s after epoch %lld%s (step %lld)\n",
                      o.checkpoint->resumed_from().c_str(), static_cast<long long>(p.epoch),
                      p.batch ? msg(", batch ", p.batch, " of the next").c_str() : "",
                      static_cast<long long>(p.step));
      }
  }
  loader.set_epoch(p.epoch, p.batch);
  const std::vector<Tensor> params = model.parameters();  // for clipping, built once
  const std::int64_t batches = loader.num_batches();

  while (p.epoch < o.epochs && !result.stopped) {
    model.train();
    const auto t0 = Clock::now();
    const double lr = opt.lr();
    double loss_sum = 0;
    std::int64_t seen = 0;
    // A run resumed mid-epoch counts only this epoch's remaining batches in its train loss.
    ProgressBar bar(batches - p.batch,
                    {.label = msg("epoch ", p.epoch + 1, "/", o.epochs),
                     .unit = "batches",
                     .line_every = o.progress ? 0.1 : 0,
                     .terminal = o.progress ? std::nullopt : std::optional<bool>(false)});
    for (auto& [x, y] : loader) {
      const Tensor out = model(x);
      Tensor loss = o.loss ? o.loss(out, y) : default_loss(out, y);
      opt.zero_grad();
      loss.backward();
      if (o.clip_norm > 0) optim::clip_grad_norm_(params, o.clip_norm);
      opt.step();
      if (o.scheduler && o.schedule_per_batch) o.scheduler->step();
      const double l = loss.item();
      const std::int64_t n = x.dim() > 0 ? x.size(0) : 1;
      loss_sum += l * static_cast<double>(n);
      seen += n;
      ++p.step;
      ++p.batch;
      if (o.progress) bar.update(1, l);
      if (o.log && o.log->logs_steps())  // no step records built when none are written
        o.log->log_step({{"epoch", static_cast<double>(p.epoch + 1)},
                         {"step", static_cast<double>(p.step)},
                         {"loss", l},
                         {"lr", opt.lr()}});
      if (o.checkpoint) o.checkpoint->on_step(p);
      const BatchEnd be{p.epoch + 1, p.batch, p.step, n, l};
      if (any_stop(o.callbacks, [&](Callback& c) { return c.on_batch_end(be); })) {
        result.stopped = true;
        break;
      }
    }
    bar.finish();
    if (result.stopped && p.batch < batches) break;  // a partial epoch gets no epoch record
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    ++p.epoch;
    p.batch = 0;
    if (o.scheduler && !o.schedule_per_batch) o.scheduler->step();

    double totals[2] = {loss_sum, static_cast<double>(seen)};
    if (o.sum_across_ranks) o.sum_across_ranks(totals);
    Record r{{"epoch", static_cast<double>(p.epoch)},
             {"train_loss", totals[1] > 0 ? totals[0] / totals[1] : NAN}};
    if (o.val_loader)
      for (const auto& [k, v] : evaluate(model, *o.val_loader, o.val).record(o.val_prefix))
        r.set(k, v);
    r.set("lr", lr).set("seconds", seconds);
    if (o.plateau) o.plateau->step(r.get(o.plateau_monitor));
    if (o.print_epochs) {
      std::string line = msg("epoch ", p.epoch, "/", o.epochs);
      char value[32];
      for (const auto& [name, v] : r)
        if (name != "epoch" && name != "seconds") {
          std::snprintf(value, sizeof value, "%.4g", v);
          line += msg("  ", name, " ", value);
        }
      std::printf("%s  %s\n", line.c_str(), format_duration(seconds).c_str());
      std::fflush(stdout);
    }
    if (o.log) o.log->log_epoch(r);
    if (o.checkpoint) o.checkpoint->on_epoch(p, r);
    result.epochs.push_back(r);
    if (any_stop(o.callbacks, [&](Callback& c) { return c.on_epoch_end({p.epoch, r}); }))
      result.stopped = true;
  }
  return result;
}

}  // namespace tapegrad::train
