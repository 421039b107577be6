// Pooling: every (H, W) plane of the input on its own (planes split across threads), each
// output position reading a window of rows and columns. Max keeps the flat position of each
// maximum for backward (gx[plane][index] += gy); average spreads gy / divisor over its window.
// Window rules, output sizes and checks follow torch 1.13's (pooling_output_shape, the
// adaptive start/end indices).
#include "tapegrad/core/ops/pool.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/max_pool_2x2.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {

// One axis of the windows: output i reads rows begin(i), begin(i) + step, ... below end(i).
struct Axis {
  std::int64_t in = 0, out = 0;
  // Regular windows: kernel, stride, padding, dilation. Adaptive: kernel = 0.
  std::int64_t k = 0, s = 1, p = 0, d = 1;
  std::int64_t first(std::int64_t i) const {
    if (k == 0) return i * in / out;  // floor
    std::int64_t b = i * s - p;
    if (b < 0) b += (-b + d - 1) / d * d;  // the first position inside the input
    return b;
  }
  std::int64_t last(std::int64_t i) const {             // exclusive
    if (k == 0) return ((i + 1) * in + out - 1) / out;  // ceil
    return std::min(i * s - p + (k - 1) * d + 1, in);
  }
};

struct Pool {
  std::int64_t planes = 0;
  Axis h, w;
  Shape out;
};

Pool plane_shape(const char* op, const TensorImpl& x) {
  if (x.shape.size() != 3 && x.shape.size() != 4)
    throw ShapeError(
        msg(op, ": the input must be (N, C, H, W) or (C, H, W): got ", shape_str(x.shape)));
  check_floating(op, x);
  Pool p;
  const std::size_t r = x.shape.size();
  p.h.in = x.shape[r - 2];
  p.w.in = x.shape[r - 1];
  if (p.h.in == 0 || p.w.in == 0)
    throw ShapeError(msg(op, ": the input ", shape_str(x.shape), " has an empty plane"));
  p.planes = x.numel / (p.h.in * p.w.in);
  return p;
}

// torch's pooling_output_shape, with its checks.
void regular_axis(const char* op, Axis& a, std::int64_t k, std::int64_t s, std::int64_t pad,
                  std::int64_t d, bool ceil_mode) {
  a.k = k;
  a.s = s == 0 ? k : s;
  a.p = pad;
  a.d = d;
  // Every term is checked: kernel, stride and padding may come from anywhere.
  std::int64_t span = checked_add(a.in, checked_mul(2, pad, op), op) - (d * (k - 1) + 1);
  if (ceil_mode && span >= 0)
    span = checked_add(span, a.s - 1, op);
  else if (ceil_mode)
    span += a.s - 1;
  a.out = (span >= 0 ? span / a.s : -((-span + a.s - 1) / a.s)) + 1;
  if (ceil_mode && (a.out - 1) * a.s >= a.in + pad) --a.out;
}

Pool regular(const char* op, const TensorImpl& x, Size2 k, Size2 s, Size2 pad, Size2 d,
             bool ceil_mode) {
  Pool p = plane_shape(op, x);
  if (k.h < 1 || k.w < 1)
    throw ValueError(msg(op, ": kernel_size must be >= 1, got (", k.h, ", ", k.w, ")"));
  if (s.h < 0 || s.w < 0 || (s.h == 0) != (s.w == 0))
    throw ValueError(
        msg(op, ": stride must be >= 1 (or 0 for the kernel size), got (", s.h, ", ", s.w, ")"));
  if (d.h < 1 || d.w < 1)
    throw ValueError(msg(op, ": dilation must be >= 1, got (", d.h, ", ", d.w, ")"));
  if (pad.h < 0 || pad.w < 0 || pad.h > k.h / 2 || pad.w > k.w / 2)
    throw ValueError(msg(op, ": padding must be between 0 and half the kernel size (", k.h / 2,
                         ", ", k.w / 2, "), got (", pad.h, ", ", pad.w, ")"));
  checked_mul(d.h, k.h, op);
  checked_mul(d.w, k.w, op);
  regular_axis(op, p.h, k.h, s.h, pad.h, d.h, ceil_mode);
  regular_axis(op, p.w, k.w, s.w, pad.w, d.w, ceil_mode);
  if (p.h.out < 1 || p.w.out < 1)
    throw ShapeError(msg(op, ": the input ", shape_str(x.shape), " gives an output of (", p.h.out,
                         ", ", p.w.out, "): too small for the kernel (", k.h, ", ", k.w,
                         ") with its dilation and padding"));
  p.out = x.shape;
  p.out[p.out.size() - 2] = p.h.out;
  p.out.back() = p.w.out;
  return p;
}

Pool adaptive(const char* op, const TensorImpl& x, Size2 out) {
  Pool p = plane_shape(op, x);
  if (out.h < 1 || out.w < 1)
    throw ValueError(msg(op, ": output_size must be >= 1, got (", out.h, ", ", out.w, ")"));
  p.h.out = out.h;
  p.w.out = out.w;
  p.out = x.shape;
  p.out[p.out.size() - 2] = out.h;
  p.out.back() = out.w;
  return p;
}

// take ? a : b by bit masks: GCC turns the ternary on floats into a branch.
template <typename T>
T select_if(bool take, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const U mask = U{0} - static_cast<U>(take);
  return std::bit_cast<T>((std::bit_cast<U>(a) & mask) | (std::bit_cast<U>(b) & ~mask));
}

// An output element's window: rows [h0, h1) and columns [w0, w1), stepped by the dilation.
struct Window {
  std::int64_t oh, ow, o, h0, h1, w0, w1;
};

// Runs f(plane, window) for every output element (o: its offset in the output), planes split
// across threads; each axis's bounds are computed once, not per element.
template <typename F>
void each_output(const Pool& p, F f) {
  const std::int64_t per = p.h.out * p.w.out;
  std::vector<std::int64_t> hb(static_cast<std::size_t>(2 * p.h.out)),
      wb(static_cast<std::size_t>(2 * p.w.out));
  for (std::int64_t i = 0; i < p.h.out; ++i) hb[2 * i] = p.h.first(i), hb[2 * i + 1] = p.h.last(i);
  for (std::int64_t i = 0; i < p.w.out; ++i) wb[2 * i] = p.w.first(i), wb[2 * i + 1] = p.w.last(i);
  parallel_chunks(
      p.planes,
      [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t pl = b; pl < e; ++pl)
          for (std::int64_t oh = 0; oh < p.h.out; ++oh)
            for (std::int64_t ow = 0; ow < p.w.out; ++ow)
              f(pl, Window{oh, ow, (pl * p.h.out + oh) * p.w.out + ow, hb[2 * oh], hb[2 * oh + 1],
                           wb[2 * ow], wb[2 * ow + 1]});
      },
      per * 4);
}

// Whether an axis's windows are 2 wide, 2 apart, unpadded and whole (no partial window at the
// edge): every CNN's pooling, which max_pool then runs without per-window bounds and steps.
bool pairs(const Axis& a) {
  return a.k == 2 && a.s == 2 && a.p == 0 && a.d == 1 && 2 * a.out <= a.in;
}

// torch's max rule, val > max or isnan(val) (a NaN wins, the last of several), as branch-free
// selects: which element of a window is largest is a coin toss the predictor loses.
template <typename T>
void take_max(T v, std::int64_t at, T& m, std::int64_t& best) {
  const bool take = (v > m) | (v != v);
  m = select_if(take, v, m);
  best += (at - best) * static_cast<std::int64_t>(take);
}

// max_pool's 2x2, stride-2 case: the same comparisons in the same order as the general loop
// (so the same values and indices), with the window's four offsets fixed; float32 rows eight
// windows at a time where the CPU has AVX2 (kernels/max_pool_2x2.h).
template <typename T>
void max_pool_pairs(const Pool& p, const T* in, T* yv, std::int64_t* iv) {
  const std::int64_t W = p.w.in, HW = p.h.in * W, Ho = p.h.out, Wo = p.w.out;
  parallel_chunks(
      p.planes,
      [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t pl = b; pl < e; ++pl)
          for (std::int64_t oh = 0; oh < Ho; ++oh) {
            const std::int64_t row = 2 * oh * W;
            const T* r0 = in + pl * HW + row;
            const T* r1 = r0 + W;
            const std::int64_t o = (pl * Ho + oh) * Wo;
            std::int64_t ow = 0;
#if defined(__AVX2__)
            if constexpr (std::is_same_v<T, float>) {
              if (Wo >= 8) {  // narrower rows: the call's set-up would cost more than it saves
                ow = Wo / 8 * 8;
                detail::max_pool_2x2_row(r0, r1, ow, row, W, yv + o, iv + o);
              }
              for (; ow + 4 <= Wo; ow += 4)
                detail::max_pool_2x2_row4(r0 + 2 * ow, r1 + 2 * ow, row + 2 * ow, W, yv + o + ow,
                                          iv + o + ow);
            }
#endif
            for (; ow < Wo; ++ow) {
              const std::int64_t c = 2 * ow;
              T m = r0[c];  // beats the -infinity start unless it is -infinity: the same result
              std::int64_t best = row + c;
              take_max(r0[c + 1], row + c + 1, m, best);
              take_max(r1[c], row + W + c, m, best);
              take_max(r1[c + 1], row + W + c + 1, m, best);
              yv[o + ow] = m;
              iv[o + ow] = best;
            }
          }
      },
      Ho * Wo * 4);
}

// For create_graph, max pooling's gradient and its adjoint as ops of their own, each the
// other's gradient: max_pool2d_backward scatters g (the pooled shape) to the chosen element of
// each window (idx: the flat position within its plane of HW), max_pool2d_gather reads those
// elements back.
Tensor plane_gather(const Tensor& t, const ImplPtr& idx, std::int64_t per, std::int64_t HW);

Tensor plane_scatter(const Tensor& g, const ImplPtr& idx, const Shape& shape, std::int64_t per,
                     std::int64_t HW) {
  const TensorImpl& ig = impl_of(g, "max_pool2d_backward");
  return dispatch_float(ig.dtype, "max_pool2d_backward", [&]<typename T>() {
    ImplPtr y = make_zeros(shape, ig.dtype);
    const std::int64_t* iv = idx->data<std::int64_t>();
    const std::int64_t planes = ig.numel / std::max<std::int64_t>(per, 1);
    for (std::int64_t pl = 0; pl < planes; ++pl)
      for (std::int64_t k = pl * per; k < (pl + 1) * per; ++k)
        y->data<T>()[pl * HW + iv[k]] += ig.data<T>()[k];
    return record("max_pool2d_backward", std::move(y), {g},
                  WithGraph{[idx, per, HW](BackwardCtx& c) {
                              TensorImpl* gg = c.grad_in(0);
                              if (!gg) return;
                              const std::int64_t* iv = idx->data<std::int64_t>();
                              const std::int64_t planes =
                                  gg->numel / std::max<std::int64_t>(per, 1);
                              for (std::int64_t pl = 0; pl < planes; ++pl)
                                for (std::int64_t k = pl * per; k < (pl + 1) * per; ++k)
                                  gg->data<T>()[k] += c.grad_out().data<T>()[pl * HW + iv[k]];
                            },
                            [idx, per, HW](GraphCtx& c) {
                              if (c.needs(0)) c.add(0, plane_gather(c.grad_out(), idx, per, HW));
                            }});
  });
}

Tensor plane_gather(const Tensor& t, const ImplPtr& idx, std::int64_t per, std::int64_t HW) {
  const TensorImpl& it = impl_of(t, "max_pool2d_gather");
  return dispatch_float(it.dtype, "max_pool2d_gather", [&]<typename T>() {
    ImplPtr y = make_impl(idx->shape, it.dtype);
    const std::int64_t* iv = idx->data<std::int64_t>();
    const std::int64_t planes = idx->numel / std::max<std::int64_t>(per, 1);
    for (std::int64_t pl = 0; pl < planes; ++pl)
      for (std::int64_t k = pl * per; k < (pl + 1) * per; ++k)
        y->data<T>()[k] = it.data<T>()[pl * HW + iv[k]];
    return record(
        "max_pool2d_gather", std::move(y), {t},
        WithGraph{[idx, per, HW](BackwardCtx& c) {
                    TensorImpl* gt = c.grad_in(0);
                    if (!gt) return;
                    const std::int64_t* iv = idx->data<std::int64_t>();
                    const std::int64_t planes = idx->numel / std::max<std::int64_t>(per, 1);
                    for (std::int64_t pl = 0; pl < planes; ++pl)
                      for (std::int64_t k = pl * per; k < (pl + 1) * per; ++k)
                        gt->data<T>()[pl * HW + iv[k]] += c.grad_out().data<T>()[k];
                  },
                  [idx, per, HW](GraphCtx& c) {
                    if (c.needs(0))
                      c.add(0, plane_scatter(c.grad_out(), idx, c.in(0).shape(), per, HW));
                  }});
  });
}

std::pair<Tensor, Tensor> max_pool(const char* op, const Tensor& x, const Pool& p) {
  const TensorImpl& ix = *impl_ptr(x);
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    ImplPtr y = make_impl(p.out, ix.dtype), idx = make_impl(p.out, kInt64);
    const T* in = ix.data<T>();
    T* yv = y->data<T>();
    std::int64_t* iv = idx->data<std::int64_t>();
    const std::int64_t HW = p.h.in * p.w.in;
    const std::int64_t W = p.w.in, dh = p.h.d, dw = p.w.d;
    if (pairs(p.h) && pairs(p.w))
      max_pool_pairs<T>(p, in, yv, iv);
    else
      each_output(p, [&](std::int64_t pl, const Window& win) {
        const T* plane = in + pl * HW;
        std::int64_t best = win.h0 * W + win.w0;
        T m = -std::numeric_limits<T>::infinity();
        for (std::int64_t ih = win.h0; ih < win.h1; ih += dh)
          for (std::int64_t iw = win.w0; iw < win.w1; iw += dw)
            take_max(plane[ih * W + iw], ih * W + iw, m, best);
        yv[win.o] = m;
        iv[win.o] = best;
      });
    const std::int64_t per = p.h.out * p.w.out;
    auto graph = [idx, per, HW](GraphCtx& c) {
      if (c.needs(0)) c.add(0, plane_scatter(c.grad_out(), idx, c.in(0).shape(), per, HW));
    };
    Tensor values = record(
        op, y, {x},
        WithGraph{[idx, per, HW](BackwardCtx& c) {
                    TensorImpl* gx = c.grad_in(0);
                    if (!gx) return;
                    const T* gy = c.grad_out().data<T>();
                    const std::int64_t* iv = idx->data<std::int64_t>();
                    T* g = gx->data<T>();
                    const std::int64_t planes = c.grad_out().numel / std::max<std::int64_t>(per, 1);
                    parallel_chunks(
                        planes,
                        [&](std::int64_t b, std::int64_t e) {
                          for (std::int64_t pl = b; pl < e; ++pl)
                            for (std::int64_t k = pl * per; k < (pl + 1) * per; ++k)
                              g[pl * HW + iv[k]] += gy[k];
                        },
                        per);
                  },
                  std::move(graph)});
    return std::pair<Tensor, Tensor>(values, Tensor(idx));
  });
}

template <typename Divisor>
Tensor avg_pool(const char* op, const Tensor& x, const Pool& p, Divisor divisor);

// For create_graph, average pooling's gradient as an op of its own (its gradient is the pooling
// again): each window's share of g spread over the window's elements of x's shape.
template <typename Divisor>
Tensor avg_spread(const Tensor& g, const Shape& shape, const Pool& p, Divisor divisor) {
  const TensorImpl& ig = impl_of(g, "avg_pool2d_backward");
  return dispatch_float(ig.dtype, "avg_pool2d_backward", [&]<typename T>() {
    ImplPtr y = make_zeros(shape, ig.dtype);
    const T* gy = ig.data<T>();
    const std::int64_t HW = p.h.in * p.w.in;
    each_output(p, [&](std::int64_t pl, const Window& win) {
      const T share = gy[win.o] / static_cast<T>(divisor(win.oh, win.ow));
      T* plane = y->data<T>() + pl * HW;
      for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
        for (std::int64_t iw = win.w0; iw < win.w1; ++iw) plane[ih * p.w.in + iw] += share;
    });
    return record("avg_pool2d_backward", std::move(y), {g},
                  WithGraph{[p, divisor](BackwardCtx& c) {
                              TensorImpl* gg = c.grad_in(0);
                              if (!gg) return;
                              const T* in = c.grad_out().data<T>();
                              const std::int64_t HW = p.h.in * p.w.in;
                              each_output(p, [&](std::int64_t pl, const Window& win) {
                                const T* plane = in + pl * HW;
                                T s = 0;
                                for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
                                  for (std::int64_t iw = win.w0; iw < win.w1; ++iw)
                                    s += plane[ih * p.w.in + iw];
                                gg->data<T>()[win.o] += s / static_cast<T>(divisor(win.oh, win.ow));
                              });
                            },
                            [p, divisor](GraphCtx& c) {
                              if (c.needs(0))
                                c.add(0, avg_pool("avg_pool2d", c.grad_out(), p, divisor));
                            }});
  });
}

// count(oh, ow): the window's divisor.
template <typename Divisor>
Tensor avg_pool(const char* op, const Tensor& x, const Pool& p, Divisor divisor) {
  const TensorImpl& ix = *impl_ptr(x);
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    ImplPtr y = make_impl(p.out, ix.dtype);
    const T* in = ix.data<T>();
    T* yv = y->data<T>();
    const std::int64_t HW = p.h.in * p.w.in;
    each_output(p, [&](std::int64_t pl, const Window& win) {
      const T* plane = in + pl * HW;
      T s = 0;
      for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
        for (std::int64_t iw = win.w0; iw < win.w1; ++iw) s += plane[ih * p.w.in + iw];
      yv[win.o] = s / static_cast<T>(divisor(win.oh, win.ow));
    });
    auto graph = [p, divisor](GraphCtx& c) {
      if (c.needs(0)) c.add(0, avg_spread(c.grad_out(), c.in(0).shape(), p, divisor));
    };
    return record(op, std::move(y), {x},
                  WithGraph{[p, divisor](BackwardCtx& c) {
                              TensorImpl* gx = c.grad_in(0);
                              if (!gx) return;
                              const T* gy = c.grad_out().data<T>();
                              T* g = gx->data<T>();
                              const std::int64_t HW = p.h.in * p.w.in;
                              each_output(p, [&](std::int64_t pl, const Window& win) {
                                const T share = gy[win.o] / static_cast<T>(divisor(win.oh, win.ow));
                                T* plane = g + pl * HW;
                                for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
                                  for (std::int64_t iw = win.w0; iw < win.w1; ++iw)
                                    plane[ih * p.w.in + iw] += share;
                              });
                            },
                            std::move(graph)});
  });
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const MaxPool2dOptions& o) {
  const Pool p = regular("max_pool2d", impl_of(x, "max_pool2d"), o.kernel_size, o.stride, o.padding,
                         o.dilation, o.ceil_mode);
  return max_pool("max_pool2d", x, p);
}

Tensor max_pool2d(const Tensor& x, const MaxPool2dOptions& o) {
  return max_pool2d_with_indices(x, o).first;
}

Tensor avg_pool2d(const Tensor& x, const AvgPool2dOptions& o) {
  if (o.divisor_override < 0)
    throw ValueError(
        msg("avg_pool2d: divisor_override must be > 0 (or 0 for none), got ", o.divisor_override));
  const Pool p = regular("avg_pool2d", impl_of(x, "avg_pool2d"), o.kernel_size, o.stride, o.padding,
                         1, o.ceil_mode);
  // torch: the window clipped to the padded input counts when count_include_pad, the window
  // clipped to the input otherwise.
  const Axis h = p.h, w = p.w;
  const bool include_pad = o.count_include_pad;
  const std::int64_t override_by = o.divisor_override;
  return avg_pool(
      "avg_pool2d", x, p, [h, w, include_pad, override_by](std::int64_t oh, std::int64_t ow) {
        if (override_by > 0) return override_by;
        if (!include_pad) return (h.last(oh) - h.first(oh)) * (w.last(ow) - w.first(ow));
        const std::int64_t hs = oh * h.s - h.p, ws = ow * w.s - w.p;
        const std::int64_t he = std::min(hs + h.k, h.in + h.p), we = std::min(ws + w.k, w.in + w.p);
        return (he - hs) * (we - ws);
      });
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  const Pool p = adaptive("adaptive_avg_pool2d", impl_of(x, "adaptive_avg_pool2d"), output_size);
  const Axis h = p.h, w = p.w;
  return avg_pool("adaptive_avg_pool2d", x, p, [h, w](std::int64_t oh, std::int64_t ow) {
    return (h.last(oh) - h.first(oh)) * (w.last(ow) - w.first(ow));
  });
}

std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& x, Size2 output_size) {
  const Pool p = adaptive("adaptive_max_pool2d", impl_of(x, "adaptive_max_pool2d"), output_size);
  return max_pool("adaptive_max_pool2d", x, p);
}

Tensor adaptive_max_pool2d(const Tensor& x, Size2 output_size) {
  return adaptive_max_pool2d_with_indices(x, output_size).first;
}

}  // namespace tapegrad
