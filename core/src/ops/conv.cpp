// Convolution as matrix products: each kernel entry's view of the input is unfolded into a row
// ("im2col": columns (K, B*L) for a block of B samples, each row's segments copied as whole
// input rows), so that a whole block is one GEMM per group through gemm(), in the forward
// pass and for both gradients:
//   y_obl (O, B*L)  = W cols                forward (then to (B, O, L), plus the bias)
//   gW    (O, K)   += gy_obl cols^T         weight gradient: one product per block
//   gcols (K, B*L)  = W^T gy_obl            input gradient, folded back by col2im (+=)
// Legend: N batch, C input channels, O output channels, G groups, K = C * kH * kW (Kg per
// group), L = Ho * Wo output positions per sample. The batch goes in blocks whose columns fit
// in cache, whole blocks per thread; backward unfolds each block again rather than keeping the
// batch's columns.
#include "tapegrad/core/ops/conv.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "runtime/parallel_chunks.h"
#include "runtime/team.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

Padding2::Padding2(const char* mode) {
  const std::string_view m = mode ? mode : "";
  if (m == "same")
    same = true;
  else if (m != "valid")
    throw ValueError(msg("padding must be numbers, \"same\" or \"valid\": got \"", m, "\""));
}

namespace {

// A block of samples is unfolded at a time, its columns about the size of a core's L2 cache:
// unfolding the whole batch at once (4 MB for B4's layers) ran at memory speed.
constexpr std::int64_t kBlockBytes = std::int64_t{256} << 10;

// What an error shows: the caller's own shapes and sizes (conv1d's are 3-D, one size per
// option; conv2d's the tensors' and (h, w) pairs).
struct Shown {
  Shape x, w;
  bool one_d = false;
  std::string pair(std::int64_t h, std::int64_t w_) const {
    return one_d ? msg("(", w_, ",)") : msg("(", h, ", ", w_, ")");
  }
};

ConvGeom geometry(const char* op, const TensorImpl& x, const TensorImpl& w, const Conv2dOptions& o,
                  const Shown& shown) {
  check_rank(op, "weight", w, 4);
  ConvGeom g{};
  g.N = x.shape[0];
  g.C = x.shape[1];
  g.H = x.shape[2];
  g.W = x.shape[3];
  g.O = w.shape[0];
  g.kH = w.shape[2];
  g.kW = w.shape[3];
  g.G = o.groups;
  if (g.G < 1) throw ValueError(msg(op, ": groups must be >= 1, got ", g.G));
  if (g.C % g.G != 0 || g.O % g.G != 0)
    throw ValueError(msg(op, ": ", g.C, " input and ", g.O, " output channels must both divide ",
                         "into groups=", g.G));
  if (w.shape[1] != g.C / g.G)
    throw ShapeError(msg(op, ": weight ", shape_str(shown.w), " expects ", w.shape[1] * g.G,
                         " input channels (", w.shape[1], " per group x ", g.G,
                         " groups), but the input ", shape_str(shown.x), " has ", g.C));
  if (g.kH < 1 || g.kW < 1 || g.O < 1)
    throw ShapeError(msg(op, ": weight ", shape_str(shown.w), " has an empty dim"));
  g.sH = o.stride.h;
  g.sW = o.stride.w;
  g.dH = o.dilation.h;
  g.dW = o.dilation.w;
  if (g.sH < 1 || g.sW < 1)
    throw ValueError(msg(op, ": stride must be >= 1, got ", shown.pair(g.sH, g.sW)));
  if (g.dH < 1 || g.dW < 1)
    throw ValueError(msg(op, ": dilation must be >= 1, got ", shown.pair(g.dH, g.dW)));
  // Extents of the dilated kernel, checked: a huge dilation must not overflow.
  const std::int64_t eH = checked_mul(g.dH, g.kH - 1, op) + 1,
                     eW = checked_mul(g.dW, g.kW - 1, op) + 1;
  std::int64_t pB, pR;
  if (o.padding.same) {
    if (g.sH != 1 || g.sW != 1)
      throw ValueError(msg(op, ": padding=\"same\" needs stride 1, got ", shown.pair(g.sH, g.sW)));
    g.pT = (eH - 1) / 2;
    pB = eH - 1 - g.pT;
    g.pL = (eW - 1) / 2;
    pR = eW - 1 - g.pL;
  } else {
    if (o.padding.h < 0 || o.padding.w < 0)
      throw ValueError(
          msg(op, ": padding must be >= 0, got ", shown.pair(o.padding.h, o.padding.w)));
    g.pT = pB = o.padding.h;
    g.pL = pR = o.padding.w;
  }
  // Padding comes from the user: its sums are checked.
  const std::int64_t spanH = checked_add(g.H, checked_add(g.pT, pB, op), op),
                     spanW = checked_add(g.W, checked_add(g.pL, pR, op), op);
  if (spanH < eH || spanW < eW)
    throw ShapeError(msg(op, ": the input ", shape_str(shown.x), " padded to ",
                         shown.pair(spanH, spanW), " is smaller than the kernel ",
                         shown.pair(g.kH, g.kW), " spanning ", shown.pair(eH, eW),
                         " with its dilation"));
  g.Ho = (spanH - eH) / g.sH + 1;
  g.Wo = (spanW - eW) / g.sW + 1;
  // The columns fit an int64 in bytes (8: float64's), so no size product below can overflow.
  checked_mul(checked_mul(checked_mul(g.N, checked_mul(g.Ho, g.Wo, op), op), g.K(), op), 8, op);
  return g;
}

// Samples per block: as many as keep a block's columns within kBlockBytes (at least one).
std::int64_t block_size(const ConvGeom& g, std::size_t elem) {
  const std::int64_t per =
      std::max<std::int64_t>(1, g.L() * g.K() * static_cast<std::int64_t>(elem));
  return std::clamp<std::int64_t>(kBlockBytes / per, 1, std::max<std::int64_t>(g.N, 1));
}

template <typename T>
Eigen::Map<const MatrixRM<T>> group_weight(const ConvGeom& g, const T* w, std::int64_t grp) {
  return {w + grp * g.Og() * g.Kg(), g.Og(), g.Kg()};
}

// Runs f(b0, b1, cols, aux) over the batch's blocks: whole blocks per thread when there are
// enough of them (each block's unfolding and products then run on one thread, in its cache),
// otherwise one block after the other with the unfolding and the products split across threads
// inside. cols (K x block L) and aux (O x block L) are each thread's scratch, taken here on the
// calling thread: an OpenMP worker's own allocator cache is never handed back at exit.
template <typename T, typename F>
void each_block(const ConvGeom& g, std::int64_t block, Dtype dtype, F&& f) {
  const std::int64_t blocks = (g.N + block - 1) / block;
  const int cap = detail::thread_cap();
  const bool split = blocks >= cap;
  std::vector<ImplPtr> cols, aux;
  for (int t = 0; t < (split ? cap : 1); ++t) {
    cols.push_back(make_impl({g.K(), block * g.L()}, dtype));
    aux.push_back(make_impl({g.O, block * g.L()}, dtype));
  }
  const auto run = [&](std::int64_t s, std::int64_t e) {
    const std::size_t t = omp_in_parallel() ? static_cast<std::size_t>(omp_get_thread_num()) : 0;
    for (std::int64_t k = s; k < e; ++k)
      f(k * block, std::min(g.N, (k + 1) * block), cols[t]->data<T>(), aux[t]->data<T>());
  };
  if (split)
    parallel_chunks(blocks, run, block * g.L() * g.K());
  else
    run(0, blocks);
}

// For create_graph, the unfolding and its reverse as ops of their own on the whole batch:
// im2col (x (N, C, H, W) -> cols (N, K, L)) and col2im (back, adding), each the other's
// gradient, so that a convolution's recorded form (matmuls on the columns) is differentiable
// to any order.
Tensor fold_cols(const Tensor& cols, const ConvGeom& g);

Tensor unfold_cols(const Tensor& x, const ConvGeom& g) {
  const TensorImpl& ix = impl_of(x, "im2col");
  const std::int64_t per = g.K() * g.L();
  return dispatch_float(ix.dtype, "im2col", [&]<typename T>() {
    ImplPtr y = make_impl({g.N, g.K(), g.L()}, ix.dtype);
    for (std::int64_t n = 0; n < g.N; ++n)
      im2col(g, ix.data<T>(), n, n + 1, y->data<T>() + n * per);
    return record("im2col", std::move(y), {x},
                  WithGraph{[g, per](BackwardCtx& c) {
                              TensorImpl* gx = c.grad_in(0);
                              if (!gx) return;
                              for (std::int64_t n = 0; n < g.N; ++n)
                                col2im(g, c.grad_out().data<T>() + n * per, n, n + 1,
                                       gx->data<T>());
                            },
                            [g](GraphCtx& c) {
                              if (c.needs(0)) c.add(0, fold_cols(c.grad_out(), g));
                            }});
  });
}

Tensor fold_cols(const Tensor& cols, const ConvGeom& g) {
  const TensorImpl& ic = impl_of(cols, "col2im");
  const std::int64_t per = g.K() * g.L();
  return dispatch_float(ic.dtype, "col2im", [&]<typename T>() {
    ImplPtr y = make_zeros({g.N, g.C, g.H, g.W}, ic.dtype);
    for (std::int64_t n = 0; n < g.N; ++n)
      col2im(g, ic.data<T>() + n * per, n, n + 1, y->data<T>());
    return record("col2im", std::move(y), {cols},
                  WithGraph{[g, per](BackwardCtx& c) {
                              TensorImpl* gc = c.grad_in(0);
                              if (!gc) return;
                              const ImplPtr tmp = make_impl({per}, gc->dtype);
                              for (std::int64_t n = 0; n < g.N; ++n) {
                                im2col(g, c.grad_out().data<T>(), n, n + 1, tmp->data<T>());
                                Eigen::Map<ArrayX<T>>(gc->data<T>() + n * per, per) +=
                                    Eigen::Map<const ArrayX<T>>(tmp->data<T>(), per);
                              }
                            },
                            [g](GraphCtx& c) {
                              if (c.needs(0)) c.add(0, unfold_cols(c.grad_out(), g));
                            }});
  });
}

// A convolution's gradients in recorded ops: per group, gcols = W^T gy folded back, gW = the
// batch's sum of gy cols^T, gb = gy summed over the batch and the positions.
void conv_graph(GraphCtx& c, const ConvGeom& g) {
  const Tensor x = c.in(0), w = c.in(1);
  const Tensor gy = reshape(c.grad_out(), {g.N, g.O, g.L()});
  const Tensor wm = reshape(w, {g.O, g.Kg()});
  const std::int64_t Og = g.Og(), Kg = g.Kg();
  if (c.needs(0)) {
    std::vector<Tensor> parts;
    for (std::int64_t grp = 0; grp < g.G; ++grp)
      parts.push_back(
          matmul(narrow(wm, 0, grp * Og, Og), narrow(gy, 1, grp * Og, Og), {.transpose_a = true}));
    c.add(0, fold_cols(g.G == 1 ? parts[0] : cat(parts, 1), g));
  }
  if (c.needs(1)) {
    const Tensor cols = unfold_cols(x, g);
    std::vector<Tensor> parts;
    for (std::int64_t grp = 0; grp < g.G; ++grp)
      parts.push_back(sum(
          matmul(narrow(gy, 1, grp * Og, Og), narrow(cols, 1, grp * Kg, Kg), {.transpose_b = true}),
          0));
    c.add(1, reshape(g.G == 1 ? parts[0] : cat(parts, 0), w.shape()));
  }
  if (c.node.inputs.size() > 2 && c.needs(2)) c.add(2, sum(sum(gy, 2), 0));
}

Tensor conv2d_nchw(const char* op, const Tensor& x, const Tensor& w, const Tensor& b,
                   const Conv2dOptions& o, const Shown& shown) {
  const TensorImpl &ix = *impl_ptr(x), &iw = impl_of(w, "conv2d");
  const ConvGeom g = geometry(op, ix, iw, o, shown);
  const bool has_bias = b.defined();
  if (has_bias && (b.dim() != 1 || b.size(0) != g.O))
    throw ShapeError(msg(op, ": bias must be (", g.O, "): got ", shape_str(b.shape())));
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    ImplPtr y = make_impl({g.N, g.O, g.Ho, g.Wo}, ix.dtype);
    const std::int64_t block = block_size(g, sizeof(T)), L = g.L(), K = g.K(), O = g.O;
    const T* bias = has_bias ? b.data<T>() : nullptr;
    each_block<T>(g, block, ix.dtype, [&](std::int64_t b0, std::int64_t b1, T* cols, T* out) {
      const std::int64_t BL = (b1 - b0) * L;
      im2col(g, ix.data<T>(), b0, b1, cols);
      const Eigen::Map<const MatrixRM<T>> X(cols, K, BL);
      Eigen::Map<MatrixRM<T>> Y(out, O, BL);
      for (std::int64_t grp = 0; grp < g.G; ++grp)
        gemm<false>(Y.middleRows(grp * g.Og(), g.Og()), group_weight(g, iw.data<T>(), grp),
                    X.middleRows(grp * g.Kg(), g.Kg()));
      // (O, B, L) -> (B, O, L), adding the bias on the way: contiguous runs of L.
      parallel_chunks((b1 - b0) * O,
                      [&](std::int64_t s, std::int64_t e) {
                        for (std::int64_t bo = s; bo < e; ++bo) {
                          const std::int64_t bb = bo / O, oc = bo % O;
                          Eigen::Map<ArrayX<T>>(y->data<T>() + ((b0 + bb) * O + oc) * L, L) =
                              Eigen::Map<const ArrayX<T>>(Y.data() + oc * BL + bb * L, L) +
                              (bias ? bias[oc] : T(0));
                        }
                      },
                      L);
    });
    auto back = [g](BackwardCtx& c) {
      const std::int64_t block = block_size(g, sizeof(T)), L = g.L(), K = g.K(), O = g.O;
      TensorImpl* gx = c.grad_in(0);
      TensorImpl* gw = c.grad_in(1);
      TensorImpl* gb = c.node.inputs.size() > 2 ? c.grad_in(2) : nullptr;
      const T* gy = c.grad_out().data<T>();
      if (gb) {
        auto acc = vec<T>(*gb);
        for (std::int64_t n = 0; n < g.N; ++n)
          acc += cmat<T>(c.grad_out(), g.N * O, L).middleRows(n * O, O).rowwise().sum().array();
      }
      if (!gx && !gw) return;
      // Each block's weight gradient lands in its own slot of one buffer (taken here, on the
      // calling thread), summed in block order afterwards: the same bits whichever thread took
      // which block.
      const std::int64_t blocks = (g.N + block - 1) / block, slot = O * g.Kg();
      const ImplPtr partial = gw ? make_impl({blocks, slot}, c.grad_out().dtype) : nullptr;
      each_block<T>(
          g, block, c.grad_out().dtype, [&](std::int64_t b0, std::int64_t b1, T* cols, T* gyt) {
            const std::int64_t BL = (b1 - b0) * L;
            Eigen::Map<MatrixRM<T>> GY(gyt, O, BL);  // (B, O, L) -> (O, B, L)
            parallel_chunks((b1 - b0) * O,
                            [&](std::int64_t s, std::int64_t e) {
                              for (std::int64_t bo = s; bo < e; ++bo) {
                                const std::int64_t bb = bo / O, oc = bo % O;
                                std::copy_n(gy + ((b0 + bb) * O + oc) * L, L,
                                            GY.data() + oc * BL + bb * L);
                              }
                            },
                            L);
            Eigen::Map<MatrixRM<T>> X(cols, K, BL);
            if (gw) {  // the columns again: recomputing them in cache beats keeping the batch's
              im2col(g, c.in(0).data<T>(), b0, b1, cols);
              T* mine = partial->data<T>() + b0 / block * slot;
              for (std::int64_t grp = 0; grp < g.G; ++grp)
                gemm<false>(Eigen::Map<MatrixRM<T>>(mine + grp * g.Og() * g.Kg(), g.Og(), g.Kg()),
                            GY.middleRows(grp * g.Og(), g.Og()),
                            X.middleRows(grp * g.Kg(), g.Kg()).transpose());
            }
            if (gx) {  // the columns' gradient reuses their buffer
              for (std::int64_t grp = 0; grp < g.G; ++grp)
                gemm<false>(X.middleRows(grp * g.Kg(), g.Kg()),
                            group_weight(g, c.in(1).data<T>(), grp).transpose(),
                            GY.middleRows(grp * g.Og(), g.Og()));
              col2im(g, cols, b0, b1, gx->data<T>());
            }
          });
      if (gw)
        for (std::int64_t k = 0; k < blocks; ++k)
          vec<T>(*gw) += Eigen::Map<const ArrayX<T>>(partial->data<T>() + k * slot, slot);
    };
    auto graph = [g](GraphCtx& c) { conv_graph(c, g); };
    return has_bias ? record("conv2d", std::move(y), {x, w, b}, WithGraph{back, graph})
                    : record("conv2d", std::move(y), {x, w}, WithGraph{back, graph});
  });
}

void check_dtypes(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_floating(op, impl_of(x, op));
  if (impl_of(w, op).dtype != x.dtype())
    throw ValueError(msg(op, ": the input is ", dtype_name(x.dtype()), " but the weight is ",
                         dtype_name(w.dtype()), "; convert one with .to()"));
  if (b.defined() && b.dtype() != x.dtype())
    throw ValueError(msg(op, ": the input is ", dtype_name(x.dtype()), " but the bias is ",
                         dtype_name(b.dtype()), "; convert one with .to()"));
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& options) {
  check_dtypes("conv2d", x, w, b);
  const Shape& s = x.shape();
  if (s.size() == 3) {  // unbatched (C, H, W)
    const Tensor y =
        conv2d_nchw("conv2d", reshape(x, {1, s[0], s[1], s[2]}), w, b, options, {s, w.shape()});
    return reshape(y, {y.size(1), y.size(2), y.size(3)});
  }
  if (s.size() != 4)
    throw ShapeError(
        msg("conv2d: the input must be (N, C, H, W) or (C, H, W): got ", shape_str(s)));
  return conv2d_nchw("conv2d", x, w, b, options, {s, w.shape()});
}

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dOptions& options) {
  check_dtypes("conv1d", x, w, b);
  const Shape& s = x.shape();
  if (s.size() != 2 && s.size() != 3)
    throw ShapeError(msg("conv1d: the input must be (N, C, L) or (C, L): got ", shape_str(s)));
  check_rank("conv1d", "weight", *impl_ptr(w), 3);
  const Shape& ws = w.shape();
  const Tensor x4 =
      s.size() == 3 ? reshape(x, {s[0], s[1], 1, s[2]}) : reshape(x, {1, s[0], 1, s[1]});
  Conv2dOptions o{
      .stride = Size2(1, options.stride),
      .padding = options.padding.same ? Padding2("same") : Padding2(0, options.padding.w),
      .dilation = Size2(1, options.dilation),
      .groups = options.groups};
  const Tensor y =
      conv2d_nchw("conv1d", x4, reshape(w, {ws[0], ws[1], 1, ws[2]}), b, o, {s, ws, true});
  return s.size() == 3 ? reshape(y, {y.size(0), y.size(1), y.size(3)})
                       : reshape(y, {y.size(1), y.size(3)});
}

}  // namespace tapegrad
