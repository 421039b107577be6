// Convolutions over NCHW (and NCL) tensors, as torch.nn.functional's: stride, padding (numbers,
// "same" or "valid"), dilation and groups; differentiable in the input, the weight and the bias.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// One size per spatial dim: a single number for all, or {height, width}.
struct Size2 {
  Size2(std::int64_t n) : h(n), w(n) {}  // NOLINT: implicit, as torch's int-or-tuple
  Size2(std::int64_t h_, std::int64_t w_) : h(h_), w(w_) {}
  std::int64_t h, w;
};

/// Zero padding: numbers (one for all sides, or {height, width}), "valid" (none) or "same"
/// (the output as large as the input; stride 1 only; an odd total goes to the bottom/right,
/// as torch's).
struct Padding2 {
  Padding2(int n) : Padding2(static_cast<std::int64_t>(n)) {}  // NOLINT: implicit, as torch's
  Padding2(std::int64_t n) : h(n), w(n) {}                     // NOLINT
  Padding2(std::int64_t h_, std::int64_t w_) : h(h_), w(w_) {}
  Padding2(const char* mode);  // NOLINT: "same" or "valid"; anything else is a ValueError
  std::int64_t h = 0, w = 0;
  bool same = false;
};

struct Conv2dOptions {
  Size2 stride = 1;
  Padding2 padding = 0;
  Size2 dilation = 1;
  std::int64_t groups = 1;
};

/// x (N, C, H, W) or unbatched (C, H, W); w (O, C / groups, kH, kW); b (O) or undefined.
/// y (N, O, Ho, Wo) with Ho = (H + pad_top + pad_bottom - dilation_h (kH - 1) - 1) / stride_h
/// + 1. x, w and b share one floating dtype.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
              const Conv2dOptions& options = {});

struct Conv1dOptions {
  std::int64_t stride = 1;
  Padding2 padding = 0;  ///< a number, "same" or "valid" (the height part is ignored)
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
};

/// x (N, C, L) or unbatched (C, L); w (O, C / groups, k); b (O) or undefined: conv2d over a
/// height of one.
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
              const Conv1dOptions& options = {});

}  // namespace tapegrad
