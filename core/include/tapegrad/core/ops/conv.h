// Convolutions over NCHW (and NCL) tensors, as torch.nn.functional's: stride, padding (numbers,
// "same" or "valid"), dilation and groups; differentiable in the input, the weight and the bias.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// One size per spatial dim: a single number for all, or {height, width}.
struct Size2 {
  /// n for both height and width.
  Size2(std::int64_t n) : h(n), w(n) {}  // NOLINT: implicit, as torch's int-or-tuple
  /// Height h_ and width w_.
  Size2(std::int64_t h_, std::int64_t w_) : h(h_), w(w_) {}
  /// The height.
  std::int64_t h, w;  ///< the width
};

/// Zero padding: numbers (one for all sides, or {height, width}), "valid" (none) or "same"
/// (the output as large as the input; stride 1 only; an odd total goes to the bottom/right,
/// as torch's).
struct Padding2 {
  /// n on every side; makes a literal 0 zero padding rather than a null mode string.
  Padding2(int n) : Padding2(static_cast<std::int64_t>(n)) {}  // NOLINT: implicit, as torch's
  /// n on every side.
  Padding2(std::int64_t n) : h(n), w(n) {}  // NOLINT
  /// h_ rows at the top and bottom, w_ columns at the left and right.
  Padding2(std::int64_t h_, std::int64_t w_) : h(h_), w(w_) {}
  /// "same" or "valid"; anything else is a ValueError.
  Padding2(const char* mode);  // NOLINT: "same" or "valid"; anything else is a ValueError
  /// Rows of zeros added at the top and at the bottom.
  std::int64_t h = 0, w = 0;  ///< columns added at the left and at the right
  bool same = false;          ///< true for "same": the padding is worked out from the kernel
};

/// conv2d's settings, as torch's Conv2d arguments.
struct Conv2dOptions {
  Size2 stride = 1;         ///< step between windows
  Padding2 padding = 0;     ///< zeros around the input: numbers, "same" or "valid"
  Size2 dilation = 1;       ///< spacing between kernel elements (1: adjacent)
  std::int64_t groups = 1;  ///< channel groups: each output channel sees C / groups input channels
};

/// x (N, C, H, W) or unbatched (C, H, W); w (O, C / groups, kH, kW); b (O) or undefined.
/// y (N, O, Ho, Wo) with Ho = (H + pad_top + pad_bottom - dilation_h (kH - 1) - 1) / stride_h
/// + 1. x, w and b share one floating dtype.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
              const Conv2dOptions& options = {});

/// conv1d's settings, as torch's Conv1d arguments.
struct Conv1dOptions {
  std::int64_t stride = 1;    ///< step between windows
  Padding2 padding = 0;       ///< a number, "same" or "valid" (the height part is ignored)
  std::int64_t dilation = 1;  ///< spacing between kernel elements (1: adjacent)
  std::int64_t groups = 1;  ///< channel groups: each output channel sees C / groups input channels
};

/// x (N, C, L) or unbatched (C, L); w (O, C / groups, k); b (O) or undefined: conv2d over a
/// height of one.
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
              const Conv1dOptions& options = {});

}  // namespace tapegrad
