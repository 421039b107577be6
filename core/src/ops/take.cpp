// take_at and put_add_at: each is linear and the other's adjoint, so each records the other as
// its create_graph derivative. Serial loops: offsets may repeat, and these run only on
// create_graph passes, never on the first-order fast path.
#include "ops/take.h"

#include "autograd/tape.h"
#include "kernels/dispatch.h"

namespace tapegrad {

namespace {
template <typename T>
void take_into(T* y, const T* x, const std::vector<std::int64_t>& off) {
  for (std::size_t p = 0; p < off.size(); ++p) y[p] += off[p] < 0 ? T(0) : x[off[p]];
}
template <typename T>
void put_add_into(T* y, const T* g, const std::vector<std::int64_t>& off) {
  for (std::size_t p = 0; p < off.size(); ++p)
    if (off[p] >= 0) y[off[p]] += g[p];
}
}  // namespace

Tensor take_at(const Tensor& x, Offsets off, const Shape& shape) {
  const TensorImpl& ix = impl_of(x, "take_at");
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_zeros(shape, ix.dtype);
    take_into(y->data<T>(), ix.data<T>(), *off);
    return record("take_at", std::move(y), {x},
                  WithGraph{[off](BackwardCtx& c) {
                              if (TensorImpl* gx = c.grad_in(0))
                                put_add_into(gx->data<T>(), c.grad_out().data<T>(), *off);
                            },
                            [off](GraphCtx& c) {
                              if (c.needs(0))
                                c.add(0, put_add_at(c.grad_out(), off, c.in(0).shape()));
                            }});
  });
}

Tensor put_add_at(const Tensor& g, Offsets off, const Shape& shape) {
  const TensorImpl& ig = impl_of(g, "put_add_at");
  return dispatch_all(ig.dtype, [&]<typename T>() {
    ImplPtr y = make_zeros(shape, ig.dtype);
    put_add_into(y->data<T>(), ig.data<T>(), *off);
    return record("put_add_at", std::move(y), {g},
                  WithGraph{[off](BackwardCtx& c) {
                              if (TensorImpl* gg = c.grad_in(0))
                                take_into(gg->data<T>(), c.grad_out().data<T>(), *off);
                            },
                            [off](GraphCtx& c) {
                              if (c.needs(0)) c.add(0, take_at(c.grad_out(), off, c.in(0).shape()));
                            }});
  });
}

}  // namespace tapegrad
