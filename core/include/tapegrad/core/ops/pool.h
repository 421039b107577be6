// Pooling over the last two dims of (N, C, H, W) or (C, H, W) tensors, as
// torch.nn.functional's: max (its gradient to the one position each maximum came from),
// average, and the adaptive forms that pick their windows from the output size.
#pragma once
#include <utility>

#include "tapegrad/core/ops/conv.h"

namespace tapegrad {

/// max_pool2d's settings, as torch's MaxPool2d arguments.
struct MaxPool2dOptions {
  Size2 kernel_size;       ///< the window's height and width
  Size2 stride = 0;        ///< 0: the kernel size (torch's default)
  Size2 padding = 0;       ///< implicit -inf, at most half the dilated kernel
  Size2 dilation = 1;      ///< spacing between window elements (1: adjacent)
  bool ceil_mode = false;  ///< round the output size up (a last window may start in the padding)
};

/// The largest value in each window; the gradient goes to that one position (the first of
/// equal ones; NaN wins, the last of several, as torch's).
Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& options);
/// Also the positions, int64, flat over each (H, W) plane (torch's return_indices).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const MaxPool2dOptions& options);

/// avg_pool2d's settings, as torch's AvgPool2d arguments.
struct AvgPool2dOptions {
  Size2 kernel_size;       ///< the window's height and width
  Size2 stride = 0;        ///< 0: the kernel size
  Size2 padding = 0;       ///< implicit zeros, at most half the kernel
  bool ceil_mode = false;  ///< round the output size up (a last window may start in the padding)
  bool count_include_pad = true;      ///< the padding counts in the divisor (torch's default)
  std::int64_t divisor_override = 0;  ///< > 0: divide every window's sum by this instead
};

/// The mean of each window.
Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& options);

/// Windows [floor(i H / Ho), ceil((i + 1) H / Ho)) for output size (Ho, Wo), as torch's.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);
/// The largest value of each adaptive window (same windows as adaptive_avg_pool2d).
Tensor adaptive_max_pool2d(const Tensor& x, Size2 output_size);
/// The same, with the positions of the maxima (int64, flat over each H, W plane).
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Size2 output_size);

}  // namespace tapegrad
