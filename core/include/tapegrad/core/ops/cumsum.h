// Running sums along a dim.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Running sum along dim (int64 stays int64).
Tensor cumsum(const Tensor& x, std::int64_t dim);

}  // namespace tapegrad
