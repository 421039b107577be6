// What every data-parallel form needs before its first step: the ranks' models checked to be
// the same (names, shapes, dtypes), then rank 0's values everywhere.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::dist::detail {

/// ValueError, prefixed with who, on every rank when the ranks' named tensors differ in count,
/// or in a name, shape or dtype (the first that differs is named). A collective.
void check_replicas(const char* who, const std::vector<std::pair<std::string, Tensor>>& named);

/// Every tensor becomes rank 0's (not recorded). A collective.
void broadcast_from_rank0(const std::vector<Tensor>& tensors);

}  // namespace tapegrad::dist::detail
