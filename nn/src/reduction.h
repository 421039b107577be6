// Shared by the loss files: applies a Reduction to per-element or per-sample losses.
#pragma once
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/functional.h"

namespace tapegrad::nn {

inline Tensor reduce(const Tensor& per_element, Reduction r) {
  switch (r) {
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
    default: return per_element;
  }
}

}  // namespace tapegrad::nn
