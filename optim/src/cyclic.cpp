// CyclicLR and OneCycleLR, formula for formula as torch.optim.lr_scheduler (1.13). Each computes
// its lr from the step count alone, so get_lr is its own closed form.
#include "tapegrad/optim/cyclic.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "schedule_math.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::optim {

namespace {
using std::numbers::pi;

// One value per group: the list given, which must have one per group.
std::vector<double> one_per_group(const char* who, const char* what, std::vector<double> v,
                                  const Optimizer& opt) {
  if (v.size() != opt.num_groups())
    throw ValueError(
        msg(who, ": expected ", opt.num_groups(), " values for ", what, ", got ", v.size()));
  for (double x : v)
    if (!(x >= 0 && std::isfinite(x)))
      throw ValueError(msg(who, ": ", what, " must be finite and >= 0, got ", x));
  return v;
}

void check_cycled_momentum(const char* who, const Optimizer& opt, double base, double max) {
  if (!opt.cycled_momentum())
    throw ValueError(msg(who, ": ", opt.name(),
                         " has no momentum to cycle; pass cycle_momentum = false (an optimizer "
                         "of one's own declares one with kCycledMomentum)"));
  if (!(base >= 0 && base <= max && max < 1))
    throw ValueError(msg(who, ": momenta must satisfy 0 <= base_momentum <= max_momentum < 1, got ",
                         base, " and ", max));
}
}  // namespace

// ---- CyclicLR ----
namespace {
// Sets every group's lr to its base_lr before the base class reads them (as torch does before
// its base __init__), and returns opt.
Optimizer& start_at(Optimizer& opt, const std::vector<double>& base_lrs, bool fresh) {
  const auto lrs = one_per_group("CyclicLR", "base_lr", base_lrs, opt);
  if (fresh)
    for (std::size_t g = 0; g < lrs.size(); ++g) opt.set_lr(lrs[g], g);
  return opt;
}
}  // namespace

CyclicLR::CyclicLR(Optimizer& opt, std::vector<double> base_lr, std::vector<double> max_lr,
                   Options o)
    : LRScheduler(start_at(opt, base_lr, o.last_epoch == -1)),
      max_lrs_(one_per_group("CyclicLR", "max_lr", std::move(max_lr), opt)),
      o_(std::move(o)) {
  const double up = o_.step_size_up, down = o_.step_size_down.value_or(up);
  if (!(up > 0 && std::isfinite(up)))
    throw ValueError(msg("CyclicLR: step_size_up must be > 0, got ", up));
  if (!(down >= 0 && std::isfinite(down)))
    throw ValueError(msg("CyclicLR: step_size_down must be >= 0, got ", down));
  if (!o_.scale_fn)  // a mode fixes what it scales by, as torch's
    o_.scale_mode = o_.mode == Options::Mode::ExpRange ? Options::ScaleMode::Iterations
                                                       : Options::ScaleMode::Cycle;
  total_ = up + down;
  step_ratio_ = up / total_;
  base_lrs_ = base_lr;  // the cycle's floor, whatever an earlier schedule left as initial lr
  if (o_.cycle_momentum) {
    check_cycled_momentum("CyclicLR", opt, o_.base_momentum, o_.max_momentum);
    if (o_.last_epoch == -1)
      for (std::size_t g = 0; g < opt.num_groups(); ++g) opt.set_momentum(o_.base_momentum, g);
  }
  initial_step(o_.last_epoch, "CyclicLR");
}

CyclicLR::CyclicLR(Optimizer& opt, double base_lr, double max_lr, Options o)
    : CyclicLR(opt, std::vector<double>(opt.num_groups(), base_lr),
               std::vector<double>(opt.num_groups(), max_lr), std::move(o)) {}

double CyclicLR::scale(double x) const {
  if (o_.scale_fn) return o_.scale_fn(x);
  switch (o_.mode) {
    case Options::Mode::Triangular: return 1;
    case Options::Mode::Triangular2: return 1 / std::pow(2.0, x - 1);
    case Options::Mode::ExpRange: return std::pow(o_.gamma, x);
  }
  return 1;
}

std::vector<double> CyclicLR::get_lr() {
  const double e = static_cast<double>(last_epoch_);
  const double cycle = std::floor(1 + e / total_), x = 1 + e / total_ - cycle;
  const double rise = x <= step_ratio_ ? x / step_ratio_ : (x - 1) / (step_ratio_ - 1);
  const double s = scale(o_.scale_mode == Options::ScaleMode::Cycle ? cycle : e);
  if (o_.cycle_momentum)
    for (std::size_t g = 0; g < opt_.num_groups(); ++g)
      opt_.set_momentum(o_.max_momentum - (o_.max_momentum - o_.base_momentum) * rise * s, g);
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return base_lrs_[g] + (max_lrs_[g] - base_lrs_[g]) * rise * s;
  });
}

// ---- OneCycleLR ----
namespace {
// Sets every group's initial lr to max_lr / div_factor before the base class reads it, as
// torch does, and returns opt.
Optimizer& start_one_cycle(Optimizer& opt, const std::vector<double>& max_lrs, double div,
                           bool fresh) {
  const auto lrs = one_per_group("OneCycleLR", "max_lr", max_lrs, opt);
  if (!(div > 0 && std::isfinite(div)))
    throw ValueError(msg("OneCycleLR: div_factor must be > 0, got ", div));
  if (fresh)
    for (std::size_t g = 0; g < lrs.size(); ++g) opt.set_initial_lr(lrs[g] / div, g);
  return opt;
}
}  // namespace

OneCycleLR::OneCycleLR(Optimizer& opt, std::vector<double> max_lr, std::int64_t total_steps,
                       Options o)
    : LRScheduler(start_one_cycle(opt, max_lr, o.div_factor, o.last_epoch == -1)),
      max_lrs_(std::move(max_lr)),
      total_(total_steps),
      o_(o) {
  if (total_steps < 1)
    throw ValueError(msg("OneCycleLR: total_steps must be >= 1, got ", total_steps));
  if (!(o.pct_start >= 0 && o.pct_start <= 1))
    throw ValueError(msg("OneCycleLR: pct_start must be in [0, 1], got ", o.pct_start));
  if (!(o.final_div_factor > 0 && std::isfinite(o.final_div_factor)))
    throw ValueError(msg("OneCycleLR: final_div_factor must be > 0, got ", o.final_div_factor));
  const double T = static_cast<double>(total_steps), up_end = o.pct_start * T - 1;
  const double base_m = o.base_momentum, max_m = o.max_momentum;
  if (o.three_phase)
    phases_ = {{up_end, 0, 1, max_m, base_m},
               {2 * o.pct_start * T - 2, 1, 0, base_m, max_m},
               {T - 1, 0, 2, max_m, max_m}};
  else
    phases_ = {{up_end, 0, 1, max_m, base_m}, {T - 1, 1, 2, base_m, max_m}};
  if (o.cycle_momentum) {
    check_cycled_momentum("OneCycleLR", opt, base_m, max_m);
    if (o.last_epoch == -1)
      for (std::size_t g = 0; g < opt.num_groups(); ++g) opt.set_momentum(max_m, g);
  }
  initial_step(o.last_epoch, "OneCycleLR");
}

OneCycleLR::OneCycleLR(Optimizer& opt, double max_lr, std::int64_t total_steps, Options o)
    : OneCycleLR(opt, std::vector<double>(opt.num_groups(), max_lr), total_steps, o) {}

void OneCycleLR::step() {
  if (last_epoch_ >= total_)
    throw ValueError(
        msg("OneCycleLR: tried to step ", last_epoch_ + 2, " times; total_steps is ", total_));
  LRScheduler::step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (o_.anneal_strategy == Options::Anneal::Linear) return (end - start) * pct + start;
  return end + (start - end) / 2 * (std::cos(pi * pct) + 1);
}

std::vector<double> OneCycleLR::get_lr() {
  if (last_epoch_ > total_)
    throw ValueError(msg("OneCycleLR: step ", last_epoch_, " is past total_steps ", total_));
  const double t = static_cast<double>(last_epoch_);
  double start = 0;
  std::size_t i = 0;
  while (i + 1 < phases_.size() && t > phases_[i].end_step) start = phases_[i++].end_step;
  const Phase& ph = phases_[i];
  if (ph.end_step == start)
    throw ValueError(msg("OneCycleLR: phase ", i + 1, " has no steps (pct_start ", o_.pct_start,
                         " of ", total_, " steps)"));
  // Step total_steps, the one after the last, lies past the last phase's end: torch
  // extrapolates it (below zero with linear annealing); tapegrad holds the end value.
  const double pct = std::min(1.0, (t - start) / (ph.end_step - start));
  if (o_.cycle_momentum)
    for (std::size_t g = 0; g < opt_.num_groups(); ++g)
      opt_.set_momentum(anneal(ph.start_m, ph.end_m, pct), g);
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    const double lrs[3] = {base_lrs_[g], max_lrs_[g], base_lrs_[g] / o_.final_div_factor};
    return anneal(lrs[ph.start_lr], lrs[ph.end_lr], pct);
  });
}

}  // namespace tapegrad::optim
