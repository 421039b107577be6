// im2col and col2im (im2col.h): whole input rows copied as blocks where the geometry allows,
// (sample, channel) pairs split across threads.
#include "kernels/im2col.h"

#include <algorithm>

#include "kernels/dispatch.h"
#include "runtime/parallel_chunks.h"

namespace tapegrad {

namespace {

// Along one axis, for a kernel offset off (= j dW - pL): the outputs [lo, hi) whose input
// position o stride + off lies inside [0, in); the others read padding.
struct Span {
  std::int64_t lo, hi;
  bool all(std::int64_t out) const { return lo == 0 && hi == out; }
};
Span inside(std::int64_t off, std::int64_t stride, std::int64_t in, std::int64_t out) {
  std::int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  std::int64_t hi = in - off <= 0 ? 0 : (in - off - 1) / stride + 1;
  hi = std::min(hi, out);
  lo = std::min(lo, hi);
  return {lo, hi};
}

template <typename T>
using StridedRM = Eigen::Map<MatrixRM<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using ConstStridedRM = Eigen::Map<const MatrixRM<T>, 0, Eigen::OuterStride<>>;

}  // namespace

// col[k][(b - b0) L + l] = x[b] at kernel entry k = (c, i, j) and output position l (0 in the
// padding). Each (sample, channel) pair fills its own kH kW rows' segments, so pairs run in
// parallel. Without padding and with stride 1 along W (the usual case) a kernel entry's image
// is one strided block copy: per-row code cost more than the copies of 8-24 elements.
template <typename T>
void im2col(const ConvGeom& g, const T* x, std::int64_t b0, std::int64_t b1, T* col) {
  const std::int64_t L = g.L(), BL = (b1 - b0) * L;
  parallel_chunks(
      (b1 - b0) * g.C,
      [&](std::int64_t s, std::int64_t e) {
        for (std::int64_t bc = s; bc < e; ++bc) {
          const std::int64_t b = b0 + bc / g.C, c = bc % g.C;
          const T* plane = x + (b * g.C + c) * g.H * g.W;
          for (std::int64_t i = 0; i < g.kH; ++i) {
            const Span sh = inside(i * g.dH - g.pT, g.sH, g.H, g.Ho);
            for (std::int64_t j = 0; j < g.kW; ++j) {
              const Span sw = inside(j * g.dW - g.pL, g.sW, g.W, g.Wo);
              T* dst = col + ((c * g.kH + i) * g.kW + j) * BL + (b - b0) * L;
              std::fill(dst, dst + sh.lo * g.Wo, T(0));  // rows in the padding
              std::fill(dst + sh.hi * g.Wo, dst + L, T(0));
              const std::int64_t rows = sh.hi - sh.lo;
              const std::int64_t at = (sh.lo * g.sH + i * g.dH - g.pT) * g.W + j * g.dW - g.pL;
              if (rows > 0 && sw.all(g.Wo) && g.sW == 1) {
                StridedRM<T>(dst + sh.lo * g.Wo, rows, g.Wo, Eigen::OuterStride<>(g.Wo)) =
                    ConstStridedRM<T>(plane + at, rows, g.Wo, Eigen::OuterStride<>(g.sH * g.W));
                continue;
              }
              for (std::int64_t r = 0; r < rows; ++r) {
                T* d = dst + (sh.lo + r) * g.Wo;
                const std::int64_t a = at + r * g.sH * g.W;  // + ow sW: input column
                for (std::int64_t ow = 0; ow < sw.lo; ++ow) d[ow] = T(0);
                for (std::int64_t ow = sw.lo; ow < sw.hi; ++ow) d[ow] = plane[a + ow * g.sW];
                for (std::int64_t ow = sw.hi; ow < g.Wo; ++ow) d[ow] = T(0);
              }
            }
          }
        }
      },
      g.kH * g.kW * L);
}

// The reverse: gx[b] += every col entry at the input element it was read from. Parallel over
// (sample, channel) pairs: each owns its input plane.
template <typename T>
void col2im(const ConvGeom& g, const T* col, std::int64_t b0, std::int64_t b1, T* gx) {
  const std::int64_t L = g.L(), BL = (b1 - b0) * L;
  parallel_chunks(
      (b1 - b0) * g.C,
      [&](std::int64_t s, std::int64_t e) {
        for (std::int64_t bc = s; bc < e; ++bc) {
          const std::int64_t b = b0 + bc / g.C, c = bc % g.C;
          T* plane = gx + (b * g.C + c) * g.H * g.W;
          for (std::int64_t i = 0; i < g.kH; ++i) {
            const Span sh = inside(i * g.dH - g.pT, g.sH, g.H, g.Ho);
            for (std::int64_t j = 0; j < g.kW; ++j) {
              const Span sw = inside(j * g.dW - g.pL, g.sW, g.W, g.Wo);
              const T* src = col + ((c * g.kH + i) * g.kW + j) * BL + (b - b0) * L;
              const std::int64_t rows = sh.hi - sh.lo;
              const std::int64_t at = (sh.lo * g.sH + i * g.dH - g.pT) * g.W + j * g.dW - g.pL;
              if (rows > 0 && sw.all(g.Wo) && g.sW == 1) {
                StridedRM<T>(plane + at, rows, g.Wo, Eigen::OuterStride<>(g.sH * g.W)) +=
                    ConstStridedRM<T>(src + sh.lo * g.Wo, rows, g.Wo, Eigen::OuterStride<>(g.Wo));
                continue;
              }
              for (std::int64_t r = 0; r < rows; ++r) {
                const T* sr = src + (sh.lo + r) * g.Wo;
                const std::int64_t a = at + r * g.sH * g.W;
                for (std::int64_t ow = sw.lo; ow < sw.hi; ++ow) plane[a + ow * g.sW] += sr[ow];
              }
            }
          }
        }
      },
      g.kH * g.kW * L);
}

template void im2col<float>(const ConvGeom&, const float*, std::int64_t, std::int64_t, float*);
template void im2col<double>(const ConvGeom&, const double*, std::int64_t, std::int64_t, double*);
template void col2im<float>(const ConvGeom&, const float*, std::int64_t, std::int64_t, float*);
template void col2im<double>(const ConvGeom&, const double*, std::int64_t, std::int64_t, double*);

}  // namespace tapegrad
