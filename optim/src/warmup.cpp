// LinearLR and ConstantLR: each its formula (torch's closed form); ConstantLR also torch's
// chainable step, where the two disagree.
#include "tapegrad/optim/warmup.h"

#include <algorithm>

#include "schedule_math.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::optim {

LinearLR::LinearLR(Optimizer& opt, double start_factor, double end_factor, std::int64_t total_iters,
                   std::int64_t last_epoch)
    : FormulaLR(opt), start_(start_factor), end_(end_factor), total_(total_iters) {
  if (!(start_factor > 0 && start_factor <= 1))
    throw ValueError(msg("LinearLR: start_factor must be in (0, 1], got ", start_factor));
  if (!(end_factor >= 0 && end_factor <= 1))
    throw ValueError(msg("LinearLR: end_factor must be in [0, 1], got ", end_factor));
  if (total_iters < 1)
    throw ValueError(msg("LinearLR: total_iters must be >= 1, got ", total_iters));
  initial_step(last_epoch, "LinearLR");
}
double LinearLR::lr_at(std::size_t g, std::int64_t e) const {
  return base_lrs_[g] * (start_ + (end_ - start_) * static_cast<double>(std::min(total_, e)) /
                                      static_cast<double>(total_));
}

ConstantLR::ConstantLR(Optimizer& opt, double factor, std::int64_t total_iters,
                       std::int64_t last_epoch)
    : FormulaLR(opt), factor_(factor), total_(total_iters) {
  if (!(factor >= 0 && factor <= 1))
    throw ValueError(msg("ConstantLR: factor must be in [0, 1], got ", factor));
  if (total_iters < 0)
    throw ValueError(msg("ConstantLR: total_iters must be >= 0, got ", total_iters));
  initial_step(last_epoch, "ConstantLR");
}
double ConstantLR::lr_at(std::size_t g, std::int64_t e) const {
  return base_lrs_[g] * (factor_ + (e >= total_ ? 1 - factor_ : 0.0));
}
std::vector<double> ConstantLR::get_lr() {
  // torch's chainable form: the factor at epoch 0, lifted at epoch total_iters (never, when
  // that is 0 too).
  return per_group(base_lrs_.size(), [&](std::size_t g) {
    if (last_epoch_ == 0) return current(g) * factor_;
    if (last_epoch_ != total_) return current(g);
    return current(g) * (1 / factor_);
  });
}

}  // namespace tapegrad::optim
