// LambdaLR (a formula given as a function) and MultiplicativeLR (a factor per step).
#include "tapegrad/optim/lambda_lr.h"

#include "schedule_math.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::optim {

LambdaLR::LambdaLR(Optimizer& opt, std::function<double(std::int64_t)> f, std::int64_t last_epoch)
    : FormulaLR(opt), f_(std::move(f)) {
  if (!f_) throw ValueError("LambdaLR: the function is empty");
  initial_step(last_epoch, "LambdaLR");
}
double LambdaLR::lr_at(std::size_t g, std::int64_t e) const { return base_lrs_[g] * f_(e); }

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

}  // namespace tapegrad::optim
