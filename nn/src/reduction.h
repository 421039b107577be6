// Shared by the loss files: applies a Reduction to per-element or per-sample losses.
#pragma once
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/functional.h"

namespace tapegrad::nn {

/// Refuses Reduction::BatchMean for every loss but kl_div, naming op.
inline void check_reduction(const char* op, Reduction r, bool batchmean_ok = false) {
  if (r == Reduction::BatchMean && !batchmean_ok)
    throw ValueError(msg(op, ": Reduction::BatchMean is kl_div's only; use Mean, Sum or None"));
}

inline Tensor reduce(const Tensor& per_element, Reduction r) {
  switch (r) {
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
    default: return per_element;
  }
}

}  // namespace tapegrad::nn
