// The elementwise machinery: unary_op for ops of one input, and for two inputs dtype promotion,
// the broadcast forward loop and binary_op; plus the NaN-propagating min/max torch's ops need.
// Legend: a, b inputs broadcast to y; g the gradient of y; ga, gb the inputs' gradients.
#pragma once
#include <type_traits>
#include <utility>

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"

namespace tapegrad {

/// y = f(x) elementwise into a fresh tensor of x's shape; f maps an Eigen array segment.
template <typename T, typename F>
ImplPtr map_unary(const TensorImpl& x, F f) {
  ImplPtr y = make_impl(x.shape, x.dtype);
  auto xv = cvec<T>(x);
  auto yv = vec<T>(*y);
  parallel_chunks(x.numel, [&](std::int64_t b, std::int64_t e) {
    yv.segment(b, e - b) = f(xv.segment(b, e - b));
  });
  return y;
}

/// The scalar v in the element type of Eigen expression e (Eigen never mixes float and double).
template <typename E>
typename E::Scalar scalar_like(const E&, double v) {
  return static_cast<typename E::Scalar>(v);
}

/// e, but NaN where a or b is: a + b is NaN there. b may be an array or a scalar (a NaN scalar
/// is refused by callers).
template <typename A, typename B, typename E>
auto nan_or(const A& a, const B& b, const E& e) {
  if constexpr (std::is_arithmetic_v<B>)
    return (a != a).select(a, e);
  else
    return (a != a || b != b).select(a + b, e);
}
/// max(a, b) and min(a, b) that are NaN where either operand is, as torch's (Eigen 3.4.0's own
/// leave NaN unspecified).
template <typename A, typename B>
auto max_nan(const A& a, const B& b) {
  return nan_or(a, b, a.max(b));
}
template <typename A, typename B>
auto min_nan(const A& a, const B& b) {
  return nan_or(a, b, a.min(b));
}

/// A float op of one input, elementwise: y = fwd(x) and gx += bwd(g, x, y), each given Eigen
/// array segments (bwd(g, x) when the derivative never reads y: then the entry keeps no y). The
/// backward is split across threads like the forward. graph, when given, is the same derivative in
/// recorded ops for create_graph: gx = graph(g, x) on tensors.
template <typename Fwd, typename Bwd, typename... Graph>
Tensor unary_op(const char* op, const Tensor& x, Fwd fwd, Bwd bwd, Graph... graph) {
  static_assert(sizeof...(Graph) <= 1, "unary_op: one recorded-ops derivative at most");
  const TensorImpl& ix = impl_of(x, op);
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    ImplPtr y = map_unary<T>(ix, fwd);
    using Seg = decltype(cvec<T>(ix).segment(0, 0));
    constexpr bool kReadsY = std::is_invocable_v<const Bwd&, const Seg&, const Seg&, const Seg&>;
    static_assert(kReadsY != std::is_invocable_v<const Bwd&, const Seg&, const Seg&>,
                  "unary_op: bwd takes (g, x) or (g, x, y), exactly one of them");
    auto fast = [bwd](BackwardCtx& c) {
      // gx = bwd(g) written over g itself when the buffer can be handed down, else gx += bwd(g).
      TensorImpl* gx = c.steal_grad_out(0);
      const bool in_place = gx != nullptr;
      if (!in_place) gx = c.grad_in(0);
      if (!gx) return;
      auto g = cvec<T>(c.grad_out()), xv = cvec<T>(c.in(0));
      auto gxv = vec<T>(*gx);
      const T* py = nullptr;  // read before the split: c.out() may throw
      if constexpr (kReadsY) py = c.out().data<T>();
      parallel_chunks(gx->numel, [&](std::int64_t b, std::int64_t e) {
        const std::int64_t n = e - b;
        auto d = [&] {
          if constexpr (kReadsY)
            return bwd(g.segment(b, n), xv.segment(b, n), Eigen::Map<const ArrayX<T>>(py + b, n));
          else
            return bwd(g.segment(b, n), xv.segment(b, n));
        };
        if (in_place)
          gxv.segment(b, n) = d();
        else
          gxv.segment(b, n) += d();
      });
    };
    auto closure = [&] {
      if constexpr (sizeof...(Graph) == 0)
        return fast;
      else
        return WithGraph{fast, [graph...](GraphCtx& c) {
                           if (c.needs(0)) c.add(0, graph(c.grad_out(), c.in(0))...);
                         }};
    }();
    return record(op, std::move(y), {x}, reads_output_if<kReadsY>(std::move(closure)));
  });
}

/// Two operands in their common dtype (int64 < float32 < float64), as PyTorch promotes. a and b
/// name the caller's tensors when their dtype is already the common one (a copied handle is two
/// atomic count updates, on every op), else the converted copies held here.
class Promoted {
 public:
  Promoted(const char* op, const Tensor& a0, const Tensor& b0);
  Promoted(const Promoted&) = delete;
  Promoted& operator=(const Promoted&) = delete;

 private:
  Promoted(const Tensor& a0, const Tensor& b0, Dtype common);
  Tensor converted_a_, converted_b_;  // set only when a conversion was needed

 public:
  const Tensor& a;
  const Tensor& b;
};

/// y = f(a, b) with a and b broadcast to y's shape; f takes two Eigen array expressions of
/// equal length (a broadcast operand arrives as a Constant).
template <typename T, typename F>
void broadcast_binary(const TensorImpl& a, const TensorImpl& b, TensorImpl& y, F f) {
  using Map = Eigen::Map<ArrayX<T>>;
  using CMap = Eigen::Map<const ArrayX<T>>;
  if (y.numel == 0) return;
  if (a.shape == b.shape) {  // the common case: one flat loop, split across threads
    parallel_chunks(y.numel, [&](std::int64_t s, std::int64_t e) {
      Map(y.data<T>() + s, e - s) = f(CMap(a.data<T>() + s, e - s), CMap(b.data<T>() + s, e - s));
    });
    return;
  }
  const T *pa = a.data<T>(), *pb = b.data<T>();
  for_each_run(plan_broadcast(y.shape, a.shape, b.shape),
               [&](std::int64_t o, std::int64_t ia, std::int64_t ib, std::int64_t n,
                   std::int64_t sa, std::int64_t sb) {
                 Map ys(y.data<T>() + o, n);
                 if (sa && sb)
                   ys = f(CMap(pa + ia, n), CMap(pb + ib, n));
                 else if (sa)
                   ys = f(CMap(pa + ia, n), ArrayX<T>::Constant(n, pb[ib]));
                 else if (sb)
                   ys = f(ArrayX<T>::Constant(n, pa[ia]), CMap(pb + ib, n));
                 else
                   ys = f(ArrayX<T>::Constant(n, pa[ia]), ArrayX<T>::Constant(n, pb[ib]));
               });
}

/// A derivative of exactly 1: the input's gradient is g itself, summed to the input's shape
/// with no temporary (add's, and sub's first input's).
struct PassGrad {};

/// Whether binary derivative D reads y: it takes (g, a, b, y). One that takes (g, a, b) does
/// not, and an op whose derivatives both do not keeps no output in its entry (ReadsOutput).
template <typename T, typename D>
constexpr bool kReadsY = [] {
  using Seg = decltype(cvec<T>(std::declval<const TensorImpl&>()).segment(0, 0));
  if constexpr (std::is_same_v<D, PassGrad>) {
    return false;
  } else {
    constexpr bool with_y =
        std::is_invocable_v<const D&, const Seg&, const Seg&, const Seg&, const Seg&>;
    static_assert(with_y != std::is_invocable_v<const D&, const Seg&, const Seg&, const Seg&>,
                  "binary_op: a derivative takes (g, a, b) or (g, a, b, y), exactly one of them");
    return with_y;
  }
}();

/// y's values for derivative D (null when it never reads them), taken before a split loop:
/// c.out() throws for an entry that keeps no output.
template <typename T, typename D>
const T* y_for(const BackwardCtx& c) {
  if constexpr (kReadsY<T, D>)
    return c.out().data<T>();
  else
    return nullptr;
}

/// d(g, a, b, y) on elements [s, s + n) of the output (y from y_for), or d(g, a, b) for a
/// derivative that never reads y.
template <typename T, typename D, typename G, typename A, typename B>
auto derivative_at(const D& d, const G& g, const A& a, const B& b, const T* py, std::int64_t s,
                   std::int64_t n) {
  if constexpr (kReadsY<T, D>)
    return d(g, a, b, Eigen::Map<const ArrayX<T>>(py + s, n));
  else
    return d(g, a, b);
}

/// grad_in(i) += d(g, a, b, y) summed down to input i's shape.
template <typename T, typename D>
void accumulate_binary_grad(BackwardCtx& c, std::size_t i, const D& d) {
  TensorImpl* gi = c.grad_in(i);
  if (!gi) return;
  const TensorImpl &g = c.grad_out(), &a = c.in(0), &b = c.in(1);
  if constexpr (std::is_same_v<D, PassGrad>) {
    sum_into(gi->data<T>(), gi->shape, g.data<T>(), g.shape);
  } else if (a.shape == g.shape && b.shape == g.shape) {
    // The common case: one flat pass, split across threads, no temporary.
    auto gv = cvec<T>(g), av = cvec<T>(a), bv = cvec<T>(b);
    auto giv = vec<T>(*gi);
    const T* py = y_for<T, D>(c);
    parallel_chunks(g.numel, [&](std::int64_t s, std::int64_t e) {
      const std::int64_t n = e - s;
      giv.segment(s, n) +=
          derivative_at<T>(d, gv.segment(s, n), av.segment(s, n), bv.segment(s, n), py, s, n);
    });
  } else {
    // Broadcast: the operand that broadcasts is expanded to y's shape, the derivative formed
    // there and summed back to input i's shape. Costs temporaries of y's size; broadcasting
    // binary ops are off the hot paths of training (layers fuse their bias).
    ImplPtr ea, eb;
    auto at_y_shape = [&](const TensorImpl& x, ImplPtr& expanded) -> const TensorImpl& {
      if (x.shape == g.shape) return x;
      expanded = make_zeros(g.shape, g.dtype);
      expand_into(expanded->data<T>(), expanded->shape, x.data<T>(), x.shape);
      return *expanded;
    };
    const TensorImpl &xa = at_y_shape(a, ea), &xb = at_y_shape(b, eb);
    const ImplPtr tmp = make_impl(g.shape, g.dtype);
    const std::int64_t n = g.numel;
    vec<T>(*tmp) = derivative_at<T>(d, cvec<T>(g).segment(0, n), cvec<T>(xa).segment(0, n),
                                    cvec<T>(xb).segment(0, n), y_for<T, D>(c), 0, n);
    sum_into(gi->data<T>(), gi->shape, tmp->data<T>(), tmp->shape);
  }
}

/// Input i's gradient written over the incoming gradient's own buffer when steal_grad_out can
/// hand it down (gi = d(...): no allocation, zero fill or second pass), else accumulated as
/// accumulate_binary_grad does. The other input's gradient must be done first: it reads g.
template <typename T, typename D>
void binary_grad_over_g(BackwardCtx& c, std::size_t i, const D& d) {
  const TensorImpl &g = c.grad_out(), &a = c.in(0), &b = c.in(1);
  const bool flat = std::is_same_v<D, PassGrad> || (a.shape == g.shape && b.shape == g.shape);
  TensorImpl* gi = flat ? c.steal_grad_out(i) : nullptr;
  if (!gi) return accumulate_binary_grad<T>(c, i, d);
  if constexpr (!std::is_same_v<D, PassGrad>) {  // PassGrad: the buffer already holds g
    auto gv = cvec<T>(g), av = cvec<T>(a), bv = cvec<T>(b);
    auto giv = vec<T>(*gi);
    const T* py = y_for<T, D>(c);
    parallel_chunks(g.numel, [&](std::int64_t s, std::int64_t e) {
      const std::int64_t n = e - s;
      giv.segment(s, n) =
          derivative_at<T>(d, gv.segment(s, n), av.segment(s, n), bv.segment(s, n), py, s, n);
    });
  }
}

/// The backward of a binary op: each input's gradient, the one that can take over the incoming
/// gradient's buffer (a recorded result's, not a leaf's) last. With one tensor as both inputs
/// the order is 0 then 1, each accumulated, as the two gradients share one buffer.
template <typename T, typename Da, typename Db>
void binary_backward(BackwardCtx& c, const Da& da, const Db& db) {
  if (c.node.inputs[0].t == c.node.inputs[1].t) {
    accumulate_binary_grad<T>(c, 0, da);
    accumulate_binary_grad<T>(c, 1, db);
  } else if (c.in(0).node) {
    accumulate_binary_grad<T>(c, 1, db);
    binary_grad_over_g<T>(c, 0, da);
  } else {
    accumulate_binary_grad<T>(c, 0, da);
    binary_grad_over_g<T>(c, 1, db);
  }
}

/// binary_op's create_graph derivative: each input's gradient from its recorded-ops formula
/// (ga(g, a, b), gb(g, a, b) on tensors), summed back to the input's shape.
template <typename Ga, typename Gb>
void binary_graph(GraphCtx& c, const Ga& ga, const Gb& gb) {
  const Tensor g = c.grad_out(), a = c.in(0), b = c.in(1);
  if (c.needs(0)) c.add(0, sum_to(ga(g, a, b), a.shape()));
  if (c.needs(1)) c.add(1, sum_to(gb(g, a, b), b.shape()));
}

/// A broadcasting op of two inputs in their promoted dtype: y = fwd(a, b), and backward
/// ga += da(g, a, b, y), gb += db(g, a, b, y), each summed to its input's shape. fwd and the
/// derivatives take Eigen array segments of equal length; a derivative may be PassGrad, or
/// take (g, a, b) when it never reads y.
/// int64 results are computed but never recorded (record skips them).
template <typename Fwd, typename Da, typename Db, typename... Graph>
Tensor binary_op(const char* op, const Tensor& a0, const Tensor& b0, Fwd fwd, Da da, Db db,
                 Graph... graph) {
  static_assert(sizeof...(Graph) == 0 || sizeof...(Graph) == 2,
                "binary_op: recorded-ops derivatives for both inputs, or none");
  const Promoted p(op, a0, b0);
  const TensorImpl &ia = *impl_ptr(p.a), &ib = *impl_ptr(p.b);
  ImplPtr y = make_impl(broadcast_shapes(op, ia.shape, ib.shape), ia.dtype);
  return dispatch_all(ia.dtype, [&]<typename T>() {
    broadcast_binary<T>(ia, ib, *y, fwd);
    auto fast = [da, db](BackwardCtx& c) { binary_backward<T>(c, da, db); };
    auto closure = [&] {
      if constexpr (sizeof...(Graph) == 0)
        return fast;
      else
        return WithGraph{fast, [graph...](GraphCtx& c) { binary_graph(c, graph...); }};
    }();
    constexpr bool kReads = kReadsY<T, Da> || kReadsY<T, Db>;
    return record(op, std::move(y), {p.a, p.b}, reads_output_if<kReads>(std::move(closure)));
  });
}

}  // namespace tapegrad
