// CosineAnnealingLR (its formula, and torch's recursive step) and CosineAnnealingWarmRestarts
// (its lr from the place in the current cycle), as torch.optim.lr_scheduler (1.13).
#include "tapegrad/optim/cosine.h"

#include <cmath>
#include <numbers>

#include "schedule_math.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "validate.h"

namespace tapegrad::optim {

using std::numbers::pi;

CosineAnnealingLR::CosineAnnealingLR(Optimizer& opt, std::int64_t T_max, double eta_min,
                                     std::int64_t last_epoch)
    : FormulaLR(opt), T_max_(T_max), eta_min_(eta_min) {
  if (T_max < 1) throw ValueError(msg("CosineAnnealingLR: T_max must be >= 1, got ", T_max));
  if (T_max > kMaxCount)  // the formula takes 2 T_max
    throw ValueError(msg("CosineAnnealingLR: T_max must be at most 2^62, got ", T_max));
  initial_step(last_epoch, "CosineAnnealingLR");
}
double CosineAnnealingLR::lr_at(std::size_t g, std::int64_t e) const {
  return eta_min_ + (base_lrs_[g] - eta_min_) *
                        (1 + std::cos(pi * static_cast<double>(e) / static_cast<double>(T_max_))) /
                        2;
}
std::vector<double> CosineAnnealingLR::get_lr() {
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

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& opt, std::int64_t T_0,
                                                         std::int64_t T_mult, double eta_min,
                                                         std::int64_t last_epoch)
    : LRScheduler(opt),
      T_0_(T_0),
      T_mult_(T_mult),
      eta_min_(eta_min),
      T_cur_(static_cast<double>(last_epoch)),  // resuming counts from there, as torch
      T_i_(double(T_0)) {
  if (T_0 < 1) throw ValueError(msg("CosineAnnealingWarmRestarts: T_0 must be >= 1, got ", T_0));
  if (T_mult < 1)
    throw ValueError(msg("CosineAnnealingWarmRestarts: T_mult must be >= 1, got ", T_mult));
  if (!std::isfinite(eta_min))
    throw ValueError(msg("CosineAnnealingWarmRestarts: eta_min must be finite, got ", eta_min));
  initial_step(last_epoch, "CosineAnnealingWarmRestarts");
}

void CosineAnnealingWarmRestarts::step() {
  if (last_epoch_ < 0) {  // the constructor's step: epoch 0
    step(0.0);
    return;
  }
  ++last_epoch_;
  T_cur_ += 1;
  if (T_cur_ >= T_i_) {  // a restart
    T_cur_ -= T_i_;
    T_i_ *= static_cast<double>(T_mult_);
  }
  apply(get_lr());
}

void CosineAnnealingWarmRestarts::step(double epoch) {
  if (!(epoch >= 0 && epoch < 9.0e15))  // an int64 last_epoch, with room
    throw ValueError(
        msg("CosineAnnealingWarmRestarts: epoch must be >= 0 and finite, got ", epoch));
  place(epoch);
  last_epoch_ = static_cast<std::int64_t>(std::floor(epoch));
  apply(get_lr());
}

void CosineAnnealingWarmRestarts::place(double epoch) {
  const double T0 = static_cast<double>(T_0_), m = static_cast<double>(T_mult_);
  if (epoch < T0) {
    T_i_ = T0;
    T_cur_ = epoch;
  } else if (T_mult_ == 1) {
    T_i_ = T0;
    T_cur_ = std::fmod(epoch, T0);
  } else {  // restarts at T_0 (m^n - 1) / (m - 1): n of them have passed
    const double n = std::floor(std::log(epoch / T0 * (m - 1) + 1) / std::log(m));
    T_cur_ = epoch - T0 * (std::pow(m, n) - 1) / (m - 1);
    T_i_ = T0 * std::pow(m, n);
  }
}

std::vector<double> CosineAnnealingWarmRestarts::get_lr() {
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    return eta_min_ + (base_lrs_[g] - eta_min_) * (1 + std::cos(pi * T_cur_ / T_i_)) / 2;
  });
}

std::vector<double> CosineAnnealingWarmRestarts::closed_form_lr() {
  place(static_cast<double>(last_epoch_));
  return get_lr();
}

void CosineAnnealingWarmRestarts::save_state(Archive& ar, const std::string& prefix) const {
  LRScheduler::save_state(ar, prefix);
  ar.put(prefix + "T_cur", scalar_tensor(T_cur_, {.dtype = kFloat64}));
  ar.put(prefix + "T_i", scalar_tensor(T_i_, {.dtype = kFloat64}));
}

namespace {
struct LoadedCycle : LoadedState {
  std::unique_ptr<LoadedState> base;
  double T_cur = 0, T_i = 1;
};
}  // namespace

std::unique_ptr<LoadedState> CosineAnnealingWarmRestarts::read_state(
    const Archive& ar, const std::string& prefix) const {
  auto r = std::make_unique<LoadedCycle>();
  r->base = LRScheduler::read_state(ar, prefix);
  for (const char* k : {"T_cur", "T_i"})
    if (!ar.is_tensor(prefix + k))
      throw ValueError(msg("CosineAnnealingWarmRestarts: no '", prefix, k, "' entry"));
  r->T_cur = ar.get_double(prefix + "T_cur");
  r->T_i = ar.get_double(prefix + "T_i");
  if (!(r->T_i >= 1 && std::isfinite(r->T_i) && r->T_cur >= 0 && r->T_cur < r->T_i))
    throw ValueError(msg("CosineAnnealingWarmRestarts: entries '", prefix, "T_cur' and '", prefix,
                         "T_i' are ", r->T_cur, " and ", r->T_i, "; expected 0 <= T_cur < T_i"));
  return r;
}

void CosineAnnealingWarmRestarts::apply_state(LoadedState& state) {
  auto& r = dynamic_cast<LoadedCycle&>(state);
  LRScheduler::apply_state(*r.base);
  T_cur_ = r.T_cur;
  T_i_ = r.T_i;
}

}  // namespace tapegrad::optim
