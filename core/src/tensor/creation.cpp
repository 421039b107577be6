// Tensor factories: constants, ranges and literal values (random draws are in random.cpp).
#include <cmath>

#include "kernels/dispatch.h"

namespace tapegrad {

namespace {
Tensor finish(ImplPtr t, TensorOptions opts) {
  Tensor r(std::move(t));
  if (opts.requires_grad) r.requires_grad_(true);
  return r;
}

template <typename V>
Tensor from_values(const char* op, const std::vector<V>& values, const Shape& shape,
                   TensorOptions opts) {
  const Shape s = shape.empty() ? Shape{static_cast<std::int64_t>(values.size())} : shape;
  if (shape_numel(s) != static_cast<std::int64_t>(values.size()))
    throw ShapeError(msg(op, ": ", values.size(), " values do not fill shape ", shape_str(s), " (",
                         shape_numel(s), " elements)"));
  ImplPtr t = make_impl(s, opts.dtype);
  dispatch_all(opts.dtype, [&]<typename T>() {
    T* p = t->data<T>();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_floating_point_v<V>)
        p[i] = element_from_double<T>(values[i], op);
      else
        p[i] = static_cast<T>(values[i]);
    }
  });
  return finish(std::move(t), opts);
}
}  // namespace

Tensor empty(const Shape& shape, TensorOptions opts) {
  return finish(make_impl(shape, opts.dtype), opts);
}
Tensor zeros(const Shape& shape, TensorOptions opts) {
  return finish(make_zeros(shape, opts.dtype), opts);
}
Tensor full(const Shape& shape, double value, TensorOptions opts) {
  ImplPtr t = make_impl(shape, opts.dtype);
  dispatch_all(opts.dtype, [&]<typename T>() {
    vec<T>(*t).setConstant(element_from_double<T>(value, "full"));
  });
  return finish(std::move(t), opts);
}
Tensor ones(const Shape& shape, TensorOptions opts) { return full(shape, 1, opts); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {.dtype = t.dtype()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {.dtype = t.dtype()}); }

Tensor eye(std::int64_t n, TensorOptions opts) {
  ImplPtr t = make_zeros({n, n}, opts.dtype);
  dispatch_all(opts.dtype, [&]<typename T>() {
    for (std::int64_t i = 0; i < n; ++i) t->data<T>()[i * n + i] = T(1);
  });
  return finish(std::move(t), opts);
}

Tensor arange(double start, double end, double step, TensorOptions opts) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw ValueError(msg("arange: bad range: start ", start, ", end ", end, ", step ", step));
  const std::int64_t n =
      checked_int64(std::max(0.0, std::ceil((end - start) / step)), "arange: element count");
  ImplPtr t = make_impl({n}, opts.dtype);
  dispatch_all(opts.dtype, [&]<typename T>() {
    for (std::int64_t i = 0; i < n; ++i)
      t->data<T>()[i] = element_from_double<T>(start + static_cast<double>(i) * step, "arange");
  });
  return finish(std::move(t), opts);
}
Tensor arange(std::int64_t end, TensorOptions opts) { return arange(0.0, double(end), 1.0, opts); }

Tensor from_vector(const std::vector<float>& v, const Shape& s, TensorOptions o) {
  return from_values("from_vector", v, s, o);
}
Tensor from_vector(const std::vector<double>& v, const Shape& s, TensorOptions o) {
  return from_values("from_vector", v, s, o);
}
Tensor from_vector(const std::vector<std::int64_t>& v, const Shape& s, TensorOptions o) {
  return from_values("from_vector", v, s, o);
}
Tensor tensor(std::initializer_list<double> values, const Shape& shape, TensorOptions opts) {
  return from_values("tensor", std::vector<double>(values), shape, opts);
}
Tensor scalar_tensor(double value, TensorOptions opts) { return full({}, value, opts); }

}  // namespace tapegrad
