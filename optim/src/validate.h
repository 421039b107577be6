// Hyperparameter checks shared by the Adam family (Adam, AdamW, Adamax, NAdam), and the bound
// on counts read from files.
#pragma once
#include <cstdint>

#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// The largest step, epoch or evaluation count a checkpoint may hold: counting on from it, or
/// adding a step's few to it, cannot overflow int64.
inline constexpr std::int64_t kMaxCount = std::int64_t{1} << 62;

/// lr, eps and weight_decay >= 0; both betas in [0, 1).
template <typename Options>
void validate_adam_family(const char* name, const Options& o) {
  require(o.lr >= 0, name, "lr", o.lr, ">= 0");
  require(o.eps >= 0, name, "eps", o.eps, ">= 0");
  require(o.betas.first >= 0 && o.betas.first < 1, name, "beta1", o.betas.first, "in [0, 1)");
  require(o.betas.second >= 0 && o.betas.second < 1, name, "beta2", o.betas.second, "in [0, 1)");
  require(o.weight_decay >= 0, name, "weight_decay", o.weight_decay, ">= 0");
}

}  // namespace tapegrad::optim
