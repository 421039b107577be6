// ReduceLROnPlateau, as torch.optim.lr_scheduler (1.13): best, bad epochs, cooldown.
#include "tapegrad/optim/plateau.h"

#include <algorithm>
#include <cmath>

#include "schedule_math.h"
#include "tapegrad/core/checked.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "validate.h"

namespace tapegrad::optim {

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
namespace {
struct LoadedPlateau : LoadedState {
  double best = 0;
  std::int64_t num_bad = 0, cooldown_counter = 0, last_epoch = 0;
};
}  // namespace

std::unique_ptr<LoadedState> ReduceLROnPlateau::read_state(const Archive& ar,
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
  auto r = std::make_unique<LoadedPlateau>();
  r->best = v[0];
  r->num_bad = count(1, "num_bad_epochs");
  r->cooldown_counter = count(2, "cooldown_counter");
  r->last_epoch = count(3, "last_epoch");
  return r;
}

void ReduceLROnPlateau::apply_state(LoadedState& state) {
  const auto& r = dynamic_cast<const LoadedPlateau&>(state);
  best_ = r.best;
  num_bad_ = r.num_bad;
  cooldown_counter_ = r.cooldown_counter;
  last_epoch_ = r.last_epoch;
}

}  // namespace tapegrad::optim
