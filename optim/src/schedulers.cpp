// Learning-rate schedules, formula for formula as torch.optim.lr_scheduler (1.13). get_lr is
// PyTorch's chainable form (from the current lr); closed_form_lr its _get_closed_form_lr.
#include "tapegrad/optim/schedulers.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "schedule_math.h"
#include "tapegrad/core/checked.h"
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
struct LoadedSchedule {
  std::int64_t last_epoch;
  std::vector<double> base_lrs, last_lr;
};

// Reads and checks an LRScheduler's entries without changing anything.
LoadedSchedule read_schedule(const Archive& ar, const std::string& prefix, std::size_t groups) {
  for (const char* k : {"last_epoch", "base_lrs", "last_lr"})
    if (!ar.is_tensor(prefix + k)) throw ValueError(msg("scheduler: no '", prefix, k, "' entry"));
  LoadedSchedule r{ar.get_int64(prefix + "last_epoch"),
                   ar.get(prefix + "base_lrs").to_vector<double>(),
                   ar.get(prefix + "last_lr").to_vector<double>()};
  if (r.last_epoch < -1 || r.last_epoch > kMaxCount)
    throw ValueError(msg("scheduler: entry '", prefix, "last_epoch' is ", r.last_epoch,
                         "; expected -1 or more, and at most 2^62"));
  for (const auto* v : {&r.base_lrs, &r.last_lr}) {
    if (v->size() != groups)
      throw ValueError(
          msg("scheduler: the checkpoint has ", v->size(), " groups, the optimizer ", groups));
    for (double lr : *v)
      if (!(lr >= 0))
        throw ValueError(msg("scheduler: entry '", prefix,
                             v == &r.base_lrs ? "base_lrs" : "last_lr",
                             "' holds the learning rate ", lr, "; expected >= 0"));
  }
  return r;
}
}  // namespace

void LRScheduler::check_state(const Archive& ar, const std::string& prefix) const {
  read_schedule(ar, prefix, base_lrs_.size());
}

void LRScheduler::load_state(const Archive& ar, const std::string& prefix) {
  LoadedSchedule r = read_schedule(ar, prefix, base_lrs_.size());
  last_epoch_ = r.last_epoch;
  base_lrs_ = std::move(r.base_lrs);
  last_lr_ = std::move(r.last_lr);
}

// ---- StepLR ----
StepLR::StepLR(Optimizer& opt, std::int64_t step_size, double gamma, std::int64_t last_epoch)
    : LRScheduler(opt), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) throw ValueError(msg("StepLR: step_size must be >= 1, got ", step_size));
  initial_step(last_epoch, "StepLR");
}
std::vector<double> StepLR::get_lr() {
  const bool decay = last_epoch_ != 0 && last_epoch_ % step_size_ == 0;
  return per_group(base_lrs_.size(),
                   [&](std::size_t g) { return current(g) * (decay ? gamma_ : 1); });
}
std::vector<double> StepLR::closed_form_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return base_lrs_[g] * std::pow(gamma_, static_cast<double>(last_epoch_ / step_size_));
  });
}

// ---- MultiStepLR ----
MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<std::int64_t> milestones, double gamma,
                         std::int64_t last_epoch)
    : LRScheduler(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step(last_epoch, "MultiStepLR");
}
std::vector<double> MultiStepLR::get_lr() {
  const auto hits = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return hits ? current(g) * std::pow(gamma_, static_cast<double>(hits)) : current(g);
  });
}
std::vector<double> MultiStepLR::closed_form_lr() {
  const auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return base_lrs_[g] * std::pow(gamma_, static_cast<double>(passed));
  });
}

// ---- ExponentialLR ----
ExponentialLR::ExponentialLR(Optimizer& opt, double gamma, std::int64_t last_epoch)
    : LRScheduler(opt), gamma_(gamma) {
  initial_step(last_epoch, "ExponentialLR");
}
std::vector<double> ExponentialLR::get_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return last_epoch_ == 0 ? current(g) : current(g) * gamma_;
  });
}
std::vector<double> ExponentialLR::closed_form_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return base_lrs_[g] * std::pow(gamma_, static_cast<double>(last_epoch_));
  });
}

// ---- CosineAnnealingLR ----
CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, std::int64_t T_max, double eta_min,
                                     std::int64_t last_epoch)
    : LRScheduler(opt), T_max_(T_max), eta_min_(eta_min) {
  if (T_max < 1) throw ValueError(msg("CosineAnnealingLR: T_max must be >= 1, got ", T_max));
  if (T_max > kMaxCount)  // the formula takes 2 T_max
    throw ValueError(msg("CosineAnnealingLR: T_max must be at most 2^62, got ", T_max));
  initial_step(last_epoch, "CosineAnnealingLR");
}
std::vector<double> CosineAnnealingLR::get_lr() {
  using std::numbers::pi;
  const double T = static_cast<double>(T_max_), e = static_cast<double>(last_epoch_);
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    if (last_epoch_ == 0) return current(g);
    // At the trough the ratio below would divide by zero; PyTorch steps up by this instead.
    if (py_mod(last_epoch_ - 1 - T_max_, 2 * T_max_) == 0)
      return current(g) + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / T)) / 2;
    return (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (current(g) - eta_min_) +
           eta_min_;
  });
}
std::vector<double> CosineAnnealingLR::closed_form_lr() {
  using std::numbers::pi;
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return eta_min_ +
           (base_lrs_[g] - eta_min_) *
               (1 + std::cos(pi * static_cast<double>(last_epoch_) / static_cast<double>(T_max_))) /
               2;
  });
}

// ---- LinearLR ----
LinearLR::LinearLR(Optimizer& opt, double start_factor, double end_factor, std::int64_t total_iters,
                   std::int64_t last_epoch)
    : LRScheduler(opt), start_(start_factor), end_(end_factor), total_(total_iters) {
  if (!(start_factor > 0 && start_factor <= 1))
    throw ValueError(msg("LinearLR: start_factor must be in (0, 1], got ", start_factor));
  if (!(end_factor >= 0 && end_factor <= 1))
    throw ValueError(msg("LinearLR: end_factor must be in [0, 1], got ", end_factor));
  if (total_iters < 1)
    throw ValueError(msg("LinearLR: total_iters must be >= 1, got ", total_iters));
  initial_step(last_epoch, "LinearLR");
}
std::vector<double> LinearLR::get_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    if (last_epoch_ == 0) return current(g) * start_;
    if (last_epoch_ > total_) return current(g);
    return current(g) *
           (1 + (end_ - start_) / (static_cast<double>(total_) * start_ +
                                   static_cast<double>(last_epoch_ - 1) * (end_ - start_)));
  });
}
std::vector<double> LinearLR::closed_form_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return base_lrs_[g] *
           (start_ + (end_ - start_) * static_cast<double>(std::min(total_, last_epoch_)) /
                         static_cast<double>(total_));
  });
}

// ---- ConstantLR ----
ConstantLR::ConstantLR(Optimizer& opt, double factor, std::int64_t total_iters,
                       std::int64_t last_epoch)
    : LRScheduler(opt), factor_(factor), total_(total_iters) {
  if (!(factor >= 0 && factor <= 1))
    throw ValueError(msg("ConstantLR: factor must be in [0, 1], got ", factor));
  if (total_iters < 0)
    throw ValueError(msg("ConstantLR: total_iters must be >= 0, got ", total_iters));
  initial_step(last_epoch, "ConstantLR");
}
std::vector<double> ConstantLR::get_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    if (last_epoch_ == 0) return current(g) * factor_;
    if (last_epoch_ != total_) return current(g);
    return current(g) * (1 / factor_);
  });
}
std::vector<double> ConstantLR::closed_form_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return base_lrs_[g] * (factor_ + (last_epoch_ >= total_ ? 1 - factor_ : 0.0));
  });
}

// ---- PolynomialLR ----
PolynomialLR::PolynomialLR(Optimizer& opt, std::int64_t total_iters, double power,
                           std::int64_t last_epoch)
    : LRScheduler(opt), total_(total_iters), power_(power) {
  if (total_iters < 1)
    throw ValueError(msg("PolynomialLR: total_iters must be >= 1, got ", total_iters));
  if (!std::isfinite(power))
    throw ValueError(msg("PolynomialLR: power must be finite, got ", power));
  initial_step(last_epoch, "PolynomialLR");
}
std::vector<double> PolynomialLR::get_lr() {
  const double T = static_cast<double>(total_), e = static_cast<double>(last_epoch_);
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    if (last_epoch_ == 0 || last_epoch_ > total_) return current(g);
    return current(g) * std::pow((1 - e / T) / (1 - (e - 1) / T), power_);
  });
}
std::vector<double> PolynomialLR::closed_form_lr() {
  const double T = static_cast<double>(total_);
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return base_lrs_[g] *
           std::pow(1 - static_cast<double>(std::min(total_, last_epoch_)) / T, power_);
  });
}

// ---- MultiplicativeLR ----
MultiplicativeLR::MultiplicativeLR(Optimizer& opt, std::function<double(std::int64_t)> f,
                                   std::int64_t last_epoch)
    : LRScheduler(opt), f_(std::move(f)) {
  if (!f_) throw ValueError("MultiplicativeLR: the function is empty");
  initial_step(last_epoch, "MultiplicativeLR");
}
std::vector<double> MultiplicativeLR::get_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return last_epoch_ > 0 ? current(g) * f_(last_epoch_) : current(g);
  });
}

// ---- LambdaLR ----
LambdaLR::LambdaLR(Optimizer& opt, std::function<double(std::int64_t)> f, std::int64_t last_epoch)
    : LRScheduler(opt), f_(std::move(f)) {
  if (!f_) throw ValueError("LambdaLR: the function is empty");
  initial_step(last_epoch, "LambdaLR");
}
std::vector<double> LambdaLR::get_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) { return base_lrs_[g] * f_(last_epoch_); });
}

// ---- ComposedLR ----
ComposedLR::ComposedLR(const char* who, Optimizer& opt,
                       std::vector<std::shared_ptr<LRScheduler>> children)
    : LRScheduler(opt), schedulers_(std::move(children)), who_(who) {
  if (schedulers_.empty()) throw ValueError(msg(who, ": needs at least one scheduler"));
  for (std::size_t i = 0; i < schedulers_.size(); ++i)
    if (!schedulers_[i] || &schedulers_[i]->opt_ != &opt)
      throw ValueError(msg(who, ": scheduler ", i,
                           schedulers_[i] ? " drives another optimizer" : " is null",
                           "; every scheduler must drive the same optimizer"));
}

void ComposedLR::save_state(Archive& ar, const std::string& prefix) const {
  LRScheduler::save_state(ar, prefix);
  for (std::size_t i = 0; i < schedulers_.size(); ++i)
    schedulers_[i]->save_state(ar, msg(prefix, i, "."));
}
void ComposedLR::check_state(const Archive& ar, const std::string& prefix) const {
  LRScheduler::check_state(ar, prefix);
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    if (!ar.is_tensor(msg(prefix, i, ".last_epoch")))
      throw ValueError(msg(who_, ": no state for scheduler ", i));
    schedulers_[i]->check_state(ar, msg(prefix, i, "."));
  }
}
void ComposedLR::load_state(const Archive& ar, const std::string& prefix) {
  check_state(ar, prefix);  // all of it, so that no child is loaded before a later one fails
  LRScheduler::load_state(ar, prefix);
  for (std::size_t i = 0; i < schedulers_.size(); ++i)
    schedulers_[i]->load_state(ar, msg(prefix, i, "."));
}

// ---- SequentialLR ----
SequentialLR::SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones)
    : ComposedLR("SequentialLR", opt, std::move(schedulers)), milestones_(std::move(milestones)) {
  if (milestones_.size() != schedulers_.size() - 1)
    throw ValueError(msg("SequentialLR: ", schedulers_.size(), " schedulers need ",
                         schedulers_.size() - 1, " milestones, got ", milestones_.size()));
  // As PyTorch: undo the epoch-0 steps the schedulers took when built, then start the first.
  for (std::size_t g = 0; g < opt.num_groups(); ++g) opt.set_lr(opt.initial_lr(g), g);
  for (auto& s : schedulers_) s->last_epoch_ -= 1;
  schedulers_[0]->initial_step(-1, "SequentialLR");
  last_epoch_ = 0;
  last_lr_ = schedulers_[0]->get_last_lr();
}

void SequentialLR::step() {
  ++last_epoch_;
  const auto idx = static_cast<std::size_t>(
      std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin());
  LRScheduler& s = *schedulers_[idx];
  if (idx > 0 && milestones_[idx - 1] == last_epoch_)
    s.step_to(0);  // the next schedule starts from its own epoch 0
  else
    s.step();
  last_lr_ = s.get_last_lr();
}

// ---- ChainedScheduler ----
namespace {
Optimizer& first_optimizer(const std::vector<std::shared_ptr<LRScheduler>>& cs) {
  if (cs.empty() || !cs[0]) throw ValueError("ChainedScheduler: needs at least one scheduler");
  return cs[0]->optimizer();
}
}  // namespace

ChainedScheduler::ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers)
    // A copy, not a move: arguments are evaluated in no set order, and the first reads it.
    : ComposedLR("ChainedScheduler", first_optimizer(schedulers), schedulers) {
  last_epoch_ = 0;
  last_lr_ = per_group(opt_.num_groups(), [&](std::size_t g) { return current(g); });
}

void ChainedScheduler::step() {
  for (auto& s : schedulers_) s->step();
  ++last_epoch_;
  last_lr_ = per_group(opt_.num_groups(), [&](std::size_t g) { return current(g); });
}

// ---- ReduceLROnPlateau ----
ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& opt, Options o) : opt_(opt), o_(o) {
  if (!(o.factor >= 0 && o.factor < 1))
    throw ValueError(msg("ReduceLROnPlateau: factor must be in [0, 1), got ", o.factor));
  if (o.patience < 0 || o.cooldown < 0)
    throw ValueError("ReduceLROnPlateau: patience and cooldown must be >= 0");
  best_ = o.mode == Options::Mode::Min ? INFINITY : -INFINITY;
}

bool ReduceLROnPlateau::is_better(double a) const {
  const bool rel = o_.threshold_mode == Options::ThresholdMode::Rel;
  if (o_.mode == Options::Mode::Min)
    return a < (rel ? best_ * (1 - o_.threshold) : best_ - o_.threshold);
  return a > (rel ? best_ * (1 + o_.threshold) : best_ + o_.threshold);
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_ = 0;
  } else {
    ++num_bad_;
  }
  if (cooldown_counter_ > 0) {  // bad epochs during cooldown do not count
    --cooldown_counter_;
    num_bad_ = 0;
  }
  if (num_bad_ > o_.patience) {
    for (std::size_t g = 0; g < opt_.num_groups(); ++g) {
      const double old_lr = opt_.lr(g), new_lr = std::max(old_lr * o_.factor, o_.min_lr);
      if (old_lr - new_lr > o_.eps) opt_.set_lr(new_lr, g);
    }
    cooldown_counter_ = o_.cooldown;
    num_bad_ = 0;
  }
}

std::vector<double> ReduceLROnPlateau::get_last_lr() const {
  return per_group(opt_.num_groups(), [&](std::size_t g) { return opt_.lr(g); });
}

void ReduceLROnPlateau::save_state(Archive& ar, const std::string& prefix) const {
  ar.put(prefix + "plateau",
         from_vector(std::vector<double>{best_, double(num_bad_), double(cooldown_counter_),
                                         double(last_epoch_)}));
}
ReduceLROnPlateau::Loaded ReduceLROnPlateau::read_state(const Archive& ar,
                                                        const std::string& prefix) const {
  const std::string key = prefix + "plateau";
  if (!ar.is_tensor(key)) throw ValueError(msg("ReduceLROnPlateau: no '", key, "' entry"));
  const auto v = ar.get(key).to_vector<double>();
  if (v.size() != 4)
    throw ValueError(
        msg("ReduceLROnPlateau: entry '", key, "' must hold 4 values, holds ", v.size()));
  auto count = [&](std::size_t i, const char* what) {
    const std::int64_t n = checked_int64(v[i], msg("ReduceLROnPlateau: entry '", key, "' ", what));
    if (n < 0 || n > kMaxCount)
      throw ValueError(
          msg("ReduceLROnPlateau: entry '", key, "' ", what, " is ", n, "; expected 0 to 2^62"));
    return n;
  };
  return {v[0], count(1, "num_bad_epochs"), count(2, "cooldown_counter"), count(3, "last_epoch")};
}
void ReduceLROnPlateau::check_state(const Archive& ar, const std::string& prefix) const {
  read_state(ar, prefix);
}
void ReduceLROnPlateau::load_state(const Archive& ar, const std::string& prefix) {
  const Loaded r = read_state(ar, prefix);
  best_ = r.best;
  num_bad_ = r.num_bad;
  cooldown_counter_ = r.cooldown_counter;
  last_epoch_ = r.last_epoch;
}

}  // namespace tapegrad::optim
