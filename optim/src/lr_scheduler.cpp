// LRScheduler and FormulaLR: base lrs, the constructor's step, steps and jumps, the saved state,
// and the chainable step every closed-form schedule derives from its formula.
#include "tapegrad/optim/lr_scheduler.h"

#include <cmath>

#include "schedule_math.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "validate.h"

namespace tapegrad::optim {

LRScheduler::LRScheduler(Optimizer& opt) : opt_(opt) {
  for (std::size_t g = 0; g < opt.num_groups(); ++g) {
    if (std::isnan(opt.initial_lr(g))) {
      had_initial_lrs_ = false;
      opt.set_initial_lr(opt.lr(g), g);
    }
    base_lrs_.push_back(opt.initial_lr(g));
  }
}

void LRScheduler::initial_step(std::int64_t last_epoch, const char* who) {
  if (last_epoch < -1) throw ValueError(msg(who, ": last_epoch must be >= -1, got ", last_epoch));
  if (last_epoch > kMaxCount)
    throw ValueError(msg(who, ": last_epoch must be at most 2^62, got ", last_epoch));
  if (last_epoch != -1 && !had_initial_lrs_)
    throw ValueError(msg(who, ": last_epoch ", last_epoch,
                         " resumes a schedule, which needs every group's initial_lr: load the "
                         "optimizer's saved state first"));
  last_epoch_ = last_epoch;
  step();
}

void LRScheduler::apply(const std::vector<double>& lrs) {
  for (std::size_t g = 0; g < lrs.size(); ++g) opt_.set_lr(lrs[g], g);
  last_lr_ = lrs;
}

void LRScheduler::step() {
  ++last_epoch_;
  apply(get_lr());
}

void LRScheduler::step_to(std::int64_t epoch) {
  last_epoch_ = epoch;
  apply(closed_form_lr());
}

void LRScheduler::save_state(Archive& ar, const std::string& prefix) const {
  ar.put(prefix + "last_epoch", scalar_tensor(static_cast<double>(last_epoch_), {.dtype = kInt64}));
  ar.put(prefix + "base_lrs", from_vector(base_lrs_));
  ar.put(prefix + "last_lr", from_vector(last_lr_));
}

namespace {
struct LoadedSchedule : LoadedState {
  std::int64_t last_epoch = -1;
  std::vector<double> base_lrs, last_lr;
};
}  // namespace

std::unique_ptr<LoadedState> LRScheduler::read_state(const Archive& ar,
                                                     const std::string& prefix) const {
  for (const char* k : {"last_epoch", "base_lrs", "last_lr"})
    if (!ar.is_tensor(prefix + k)) throw ValueError(msg("scheduler: no '", prefix, k, "' entry"));
  auto r = std::make_unique<LoadedSchedule>();
  r->last_epoch = ar.get_int64(prefix + "last_epoch");
  r->base_lrs = ar.get(prefix + "base_lrs").to_vector<double>();
  r->last_lr = ar.get(prefix + "last_lr").to_vector<double>();
  if (r->last_epoch < -1 || r->last_epoch > kMaxCount)
    throw ValueError(msg("scheduler: entry '", prefix, "last_epoch' is ", r->last_epoch,
                         "; expected -1 or more, and at most 2^62"));
  for (const auto* v : {&r->base_lrs, &r->last_lr}) {
    if (v->size() != base_lrs_.size())
      throw ValueError(msg("scheduler: the checkpoint has ", v->size(), " groups, the optimizer ",
                           base_lrs_.size()));
    for (double lr : *v)
      if (!(lr >= 0))
        throw ValueError(msg("scheduler: entry '", prefix,
                             v == &r->base_lrs ? "base_lrs" : "last_lr",
                             "' holds the learning rate ", lr, "; expected >= 0"));
  }
  return r;
}

void LRScheduler::apply_state(LoadedState& state) {
  auto& r = dynamic_cast<LoadedSchedule&>(state);
  last_epoch_ = r.last_epoch;
  base_lrs_ = std::move(r.base_lrs);
  last_lr_ = std::move(r.last_lr);
}

std::vector<double> FormulaLR::get_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    const double now = lr_at(g, last_epoch_);
    // Epoch 0 starts from the lr the schedule was built on: the base lr, or one a composed
    // schedule's earlier member set.
    const double before = last_epoch_ == 0 ? base_lrs_[g] : lr_at(g, last_epoch_ - 1);
    const double lr = current(g);
    if (lr == before || before == 0) return lr == before || now != 0 ? now : lr;
    return lr * (now / before);
  });
}

std::vector<double> FormulaLR::closed_form_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) { return lr_at(g, last_epoch_); });
}

}  // namespace tapegrad::optim
