// im2col and col2im: convolution's unfolding of an input into the columns of a matrix product,
// and its reverse. Column k = (c, i, j) of a block of samples b0..b1 holds, for every output
// position l, the input element kernel entry k reads there (0 in the padding).
// Legend: N batch, C input channels, O output channels, G groups, K = C * kH * kW (Kg per
// group), L = Ho * Wo output positions per sample.
#pragma once
#include <cstdint>

namespace tapegrad {

/// A convolution's geometry, checked by the op (conv.cpp) before any kernel sees it.
struct ConvGeom {
  std::int64_t N, C, H, W, O, kH, kW, sH, sW, dH, dW, pT, pL, Ho, Wo, G;
  std::int64_t Cg() const { return C / G; }
  std::int64_t Og() const { return O / G; }
  std::int64_t Kg() const { return Cg() * kH * kW; }
  std::int64_t K() const { return C * kH * kW; }
  std::int64_t L() const { return Ho * Wo; }
};

/// col (K, (b1 - b0) L) = the unfolded samples [b0, b1) of x (N, C, H, W).
template <typename T>
void im2col(const ConvGeom& g, const T* x, std::int64_t b0, std::int64_t b1, T* col);

/// gx (N, C, H, W) += col folded back: every entry added at the input element it was read from.
template <typename T>
void col2im(const ConvGeom& g, const T* col, std::int64_t b0, std::int64_t b1, T* gx);

}  // namespace tapegrad
