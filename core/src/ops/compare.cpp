// Comparisons (1 where the relation holds, 0 elsewhere, in the inputs' common dtype) and sign.
// Never recorded: a step function has no useful gradient.
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"

namespace tapegrad {

namespace {
template <typename Rel>
Tensor compare(const char* op, const Tensor& a0, const Tensor& b0, Rel rel) {
  const Promoted p(op, a0, b0);
  const TensorImpl &ia = *impl_ptr(p.a), &ib = *impl_ptr(p.b);
  ImplPtr y = make_impl(broadcast_shapes(op, ia.shape, ib.shape), ia.dtype);
  dispatch_all(ia.dtype, [&]<typename T>() {
    broadcast_binary<T>(ia, ib, *y,
                        [&](const auto& x, const auto& z) { return rel(x, z).template cast<T>(); });
  });
  return Tensor(y);
}
}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare("eq", a, b, [](const auto& x, const auto& z) { return x == z; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare("ne", a, b, [](const auto& x, const auto& z) { return x != z; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare("lt", a, b, [](const auto& x, const auto& z) { return x < z; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare("le", a, b, [](const auto& x, const auto& z) { return x <= z; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare("gt", a, b, [](const auto& x, const auto& z) { return x > z; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare("ge", a, b, [](const auto& x, const auto& z) { return x >= z; });
}

Tensor sign(const Tensor& x) {
  const TensorImpl& ix = impl_of(x, "sign");
  return dispatch_all(ix.dtype, [&]<typename T>() {
    return Tensor(map_unary<T>(ix, [](const auto& v) { return v.sign(); }));
  });
}

}  // namespace tapegrad
