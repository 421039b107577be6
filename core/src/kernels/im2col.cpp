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

// rows x n elements from src (rows src_step apart) to dst (dst_step apart), or added into it.
// Plain loops: the compiler vectorises a row, and for rows of 8-24 elements a strided Eigen
// block's set-up cost more than the copy itself (B4's conv2 ran 1.4x faster without it).
template <typename T>
void copy_rows(const T* src, std::int64_t src_step, T* dst, std::int64_t dst_step,
               std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, src += src_step, dst += dst_step)
    for (std::int64_t k = 0; k < n; ++k) dst[k] = src[k];
}
template <typename T>
void add_rows(const T* src, std::int64_t src_step, T* dst, std::int64_t dst_step, std::int64_t rows,
              std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, src += src_step, dst += dst_step)
    for (std::int64_t k = 0; k < n; ++k) dst[k] += src[k];
}

// One (sample, channel) plane's kH kW column rows: dst is its segment of the first (c, 0, 0)
// row, rows BL apart. Without padding and with stride 1 along W (the usual case) a kernel
// entry's image is one strided block copy: per-row code cost more than the copies.
template <typename T>
void unfold_plane(const ConvGeom& g, const T* plane, std::int64_t BL, T* dst0) {
  for (std::int64_t i = 0; i < g.kH; ++i) {
    const Span sh = inside(i * g.dH - g.pT, g.sH, g.H, g.Ho);
    for (std::int64_t j = 0; j < g.kW; ++j) {
      const Span sw = inside(j * g.dW - g.pL, g.sW, g.W, g.Wo);
      T* dst = dst0 + (i * g.kW + j) * BL;
      std::fill(dst, dst + sh.lo * g.Wo, T(0));  // rows in the padding
      std::fill(dst + sh.hi * g.Wo, dst + g.L(), T(0));
      const std::int64_t rows = sh.hi - sh.lo;
      const std::int64_t at = (sh.lo * g.sH + i * g.dH - g.pT) * g.W + j * g.dW - g.pL;
      if (rows > 0 && sw.all(g.Wo) && g.sW == 1) {
        copy_rows(plane + at, g.sH * g.W, dst + sh.lo * g.Wo, g.Wo, rows, g.Wo);
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

// unfold_plane's reverse: each column entry added at the input element it was read from.
template <typename T>
void fold_plane(const ConvGeom& g, const T* src0, std::int64_t BL, T* plane) {
  for (std::int64_t i = 0; i < g.kH; ++i) {
    const Span sh = inside(i * g.dH - g.pT, g.sH, g.H, g.Ho);
    for (std::int64_t j = 0; j < g.kW; ++j) {
      const Span sw = inside(j * g.dW - g.pL, g.sW, g.W, g.Wo);
      const T* src = src0 + (i * g.kW + j) * BL;
      const std::int64_t rows = sh.hi - sh.lo;
      const std::int64_t at = (sh.lo * g.sH + i * g.dH - g.pT) * g.W + j * g.dW - g.pL;
      if (rows > 0 && sw.all(g.Wo) && g.sW == 1) {
        add_rows(src + sh.lo * g.Wo, g.Wo, plane + at, g.sH * g.W, rows, g.Wo);
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

}  // namespace

// col[k][(b - b0) L + l] = x[b] at kernel entry k = (c, i, j) and output position l (0 in the
// padding). Each (sample, channel) pair fills its own kH kW rows' segments, so pairs run in
// parallel.
template <typename T>
void im2col(const ConvGeom& g, const T* x, std::int64_t b0, std::int64_t b1, T* col) {
  const std::int64_t L = g.L(), BL = (b1 - b0) * L;
  parallel_chunks((b1 - b0) * g.C,
                  [&](std::int64_t s, std::int64_t e) {
                    for (std::int64_t bc = s; bc < e; ++bc) {
                      const std::int64_t b = b0 + bc / g.C, c = bc % g.C;
                      unfold_plane(g, x + (b * g.C + c) * g.H * g.W, BL,
                                   col + c * g.kH * g.kW * BL + (b - b0) * L);
                    }
                  },
                  g.kH * g.kW * L);
}

// The reverse: gx[b] += every col entry at the input element it was read from. Parallel over
// (sample, channel) pairs: each owns its input plane.
template <typename T>
void col2im(const ConvGeom& g, const T* col, std::int64_t b0, std::int64_t b1, T* gx) {
  const std::int64_t L = g.L(), BL = (b1 - b0) * L;
  parallel_chunks((b1 - b0) * g.C,
                  [&](std::int64_t s, std::int64_t e) {
                    for (std::int64_t bc = s; bc < e; ++bc) {
                      const std::int64_t b = b0 + bc / g.C, c = bc % g.C;
                      fold_plane(g, col + c * g.kH * g.kW * BL + (b - b0) * L, BL,
                                 gx + (b * g.C + c) * g.H * g.W);
                    }
                  },
                  g.kH * g.kW * L);
}

template void im2col<float>(const ConvGeom&, const float*, std::int64_t, std::int64_t, float*);
template void im2col<double>(const ConvGeom&, const double*, std::int64_t, std::int64_t, double*);
template void col2im<float>(const ConvGeom&, const float*, std::int64_t, std::int64_t, float*);
template void col2im<double>(const ConvGeom&, const double*, std::int64_t, std::int64_t, double*);

}  // namespace tapegrad
