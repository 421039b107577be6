// StepLR, MultiStepLR, ExponentialLR and PolynomialLR: each its formula (torch's closed form).
#include "tapegrad/optim/decay.h"

#include <algorithm>
#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::optim {

StepLR::StepLR(Optimizer& opt, std::int64_t step_size, double gamma, std::int64_t last_epoch)
    : FormulaLR(opt), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) throw ValueError(msg("StepLR: step_size must be >= 1, got ", step_size));
  initial_step(last_epoch, "StepLR");
}
double StepLR::lr_at(std::size_t g, std::int64_t e) const {
  return base_lrs_[g] * std::pow(gamma_, static_cast<double>(e / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& opt, std::vector<std::int64_t> milestones, double gamma,
                         std::int64_t last_epoch)
    : FormulaLR(opt), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step(last_epoch, "MultiStepLR");
}
double MultiStepLR::lr_at(std::size_t g, std::int64_t e) const {
  const auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), e) - milestones_.begin();
  return base_lrs_[g] * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma, std::int64_t last_epoch)
    : FormulaLR(opt), gamma_(gamma) {
  initial_step(last_epoch, "ExponentialLR");
}
double ExponentialLR::lr_at(std::size_t g, std::int64_t e) const {
  return base_lrs_[g] * std::pow(gamma_, static_cast<double>(e));
}

PolynomialLR::PolynomialLR(Optimizer& opt, std::int64_t total_iters, double power,
                           std::int64_t last_epoch)
    : FormulaLR(opt), total_(total_iters), power_(power) {
  if (total_iters < 1)
    throw ValueError(msg("PolynomialLR: total_iters must be >= 1, got ", total_iters));
  if (!std::isfinite(power))
    throw ValueError(msg("PolynomialLR: power must be finite, got ", power));
  initial_step(last_epoch, "PolynomialLR");
}
double PolynomialLR::lr_at(std::size_t g, std::int64_t e) const {
  const double T = static_cast<double>(total_);
  return base_lrs_[g] * std::pow(1 - static_cast<double>(std::min(total_, e)) / T, power_);
}

}  // namespace tapegrad::optim
