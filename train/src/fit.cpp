// fit(): the loop of a training script written by hand, with everything around it a callback.
#include "tapegrad/train/fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/optim/clip.h"

namespace tapegrad::train {
namespace {
using Clock = std::chrono::steady_clock;

// Every callback sees the event; any one may stop the run.
template <typename Event>
bool any_stop(const std::vector<Callback*>& callbacks, Signal (Callback::*on)(const Event&),
              const Event& e) {
  bool stop = false;
  for (Callback* c : callbacks) stop |= (c->*on)(e) == Signal::Stop;
  return stop;
}
}  // namespace

FitResult fit(nn::Module& model, optim::Optimizer& opt, data::DataLoader& loader, FitOptions o) {
  if (o.epochs < 0) throw ValueError(msg("fit: epochs must be >= 0, got ", o.epochs));
  if (o.clip_norm < 0) throw ValueError(msg("fit: clip_norm must be >= 0, got ", o.clip_norm));
  if (o.start.epoch < 0 || o.start.step < 0 || o.start.batch < 0)
    throw ValueError(msg("fit: start is negative: epoch ", o.start.epoch, ", step ", o.start.step,
                         ", batch ", o.start.batch));
  std::vector<Callback*> cbs = o.callbacks;
  if (std::find(cbs.begin(), cbs.end(), nullptr) != cbs.end())
    throw ValueError("fit: a callback is null");
  Printer printer;
  if (o.verbose) cbs.insert(cbs.begin(), &printer);
  std::stable_partition(cbs.begin(), cbs.end(), [](const Callback* c) { return !c->saves(); });
  FitResult result;
  Progress& p = result.progress;
  p = o.start;
  FitState state{model, opt, loader, p, o.epochs};
  for (Callback* c : cbs) c->on_fit_begin(state);
  loader.set_epoch(p.epoch, p.batch);
  const std::vector<Tensor> params = model.parameters();  // for clipping, built once
  const std::int64_t batches = loader.num_batches();

  while (p.epoch < o.epochs && !result.stopped) {
    model.train();
    const auto t0 = Clock::now();
    const double lr = opt.lr();
    double loss_sum = 0;  // a run resumed mid-epoch counts only this epoch's remaining batches
    std::int64_t seen = 0;
    for (Callback* c : cbs) c->on_epoch_begin(p.epoch + 1, batches - p.batch);
    for (auto& [x, y] : loader) {
      const Tensor out = model(x);
      Tensor loss = o.loss ? o.loss(out, y) : default_loss(out, y);
      opt.zero_grad();
      loss.backward();
      if (o.clip_norm > 0) optim::clip_grad_norm_(params, o.clip_norm);
      opt.step();
      const double l = loss.item();
      const std::int64_t n = x.dim() > 0 ? x.size(0) : 1;
      loss_sum += l * static_cast<double>(n);
      seen += n;
      ++p.step;
      ++p.batch;
      if (any_stop(cbs, &Callback::on_batch_end, BatchEnd{p.epoch + 1, p.batch, p.step, n, l})) {
        result.stopped = true;
        break;
      }
    }
    if (result.stopped && p.batch < batches) break;  // a partial epoch gets no epoch record
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    ++p.epoch;
    p.batch = 0;
    double totals[2] = {loss_sum, static_cast<double>(seen)};
    if (o.sum_across_ranks) o.sum_across_ranks(totals);
    Record r{{"epoch", static_cast<double>(p.epoch)},
             {"train_loss", totals[1] > 0 ? totals[0] / totals[1] : NAN}};
    if (o.val_loader)
      for (const auto& [k, v] : evaluate(model, *o.val_loader, o.val).record(o.val_prefix))
        r.set(k, v);
    r.set("lr", lr).set("seconds", seconds);
    result.epochs.push_back(r);
    if (any_stop(cbs, &Callback::on_epoch_end, EpochEnd{p.epoch, r, p.step})) result.stopped = true;
  }
  return result;
}

}  // namespace tapegrad::train
