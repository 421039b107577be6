// Tensor's member functions: shape queries, element access, dtype conversion and copies, and the
// in-place updates optimizers use. Its autograd flags are in tensor_grad.cpp, the method forms
// of ops in tensor_methods.cpp; backward() in autograd/backward.cpp, hooks in autograd/hooks.cpp.
#include "tapegrad/core/tensor.h"

#include <cmath>
#include <cstring>

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "tapegrad/core/autograd/tape.h"
#include "tapegrad/core/ops/arith.h"
#include "tensor/check.h"

namespace tapegrad {

Tensor::Tensor() noexcept = default;
Tensor::Tensor(RefPtr<TensorImpl> impl) : impl_(std::move(impl)) {}
Tensor::Tensor(const Tensor& other) = default;
Tensor::Tensor(Tensor&& other) noexcept = default;
Tensor& Tensor::operator=(const Tensor& other) = default;
Tensor& Tensor::operator=(Tensor&& other) noexcept = default;
Tensor::~Tensor() = default;

const Shape& Tensor::shape() const { return impl_of(*this, "shape").shape; }
std::int64_t Tensor::dim() const { return static_cast<std::int64_t>(shape().size()); }
std::int64_t Tensor::numel() const { return impl_of(*this, "numel").numel; }
Dtype Tensor::dtype() const { return impl_of(*this, "dtype").dtype; }
std::int64_t Tensor::size(std::int64_t d) const {
  const Shape& s = shape();
  if (s.empty()) throw ValueError("size: a 0-d tensor has no dims");
  return s[normalize_dim("size", d, dim())];
}

namespace {
// Reads element i of any dtype as double.
double read_as_double(const TensorImpl& t, std::int64_t i) {
  return dispatch_all(t.dtype, [&]<typename T>() { return static_cast<double>(t.data<T>()[i]); });
}

std::int64_t flat_index(const char* op, const TensorImpl& t,
                        std::initializer_list<std::int64_t> idx) {
  if (idx.size() != t.shape.size())
    throw ValueError(
        msg(op, ": index has ", idx.size(), " entries for a tensor of shape ", shape_str(t.shape)));
  std::int64_t flat = 0, d = 0;
  for (std::int64_t i : idx) {
    if (i < -t.shape[d] || i >= t.shape[d])
      throw ValueError(msg(op, ": index ", i, " is out of range for dim ", d, " of size ",
                           t.shape[d], " (shape ", shape_str(t.shape), ")"));
    flat = flat * t.shape[d] + (i < 0 ? i + t.shape[d] : i);
    ++d;
  }
  return flat;
}

// Every in-place update passes here: it refuses tensors the tape is tracking and bumps the
// storage version so the tape can tell when a saved value has changed.
void check_inplace(const char* op, TensorImpl& t) {
  if (is_grad_enabled() && (t.requires_grad || t.node))
    throw StateError(msg(op,
                         ": in-place update of a tensor that requires grad would corrupt its "
                         "gradient; do it under NoGradGuard"));
  mark_written(t);
}
}  // namespace

double Tensor::item() const {
  const TensorImpl& t = impl_of(*this, "item");
  if (t.numel != 1)
    throw ValueError(msg("item: the tensor has ", t.numel, " elements (shape ", shape_str(t.shape),
                         "); item() needs exactly one"));
  return read_as_double(t, 0);
}

double Tensor::at(std::initializer_list<std::int64_t> index) const {
  const TensorImpl& t = impl_of(*this, "at");
  return read_as_double(t, flat_index("at", t, index));
}

void Tensor::set(std::initializer_list<std::int64_t> index, double value) const {
  TensorImpl& t = impl_of(*this, "set");
  check_inplace("set", t);
  const std::int64_t i = flat_index("set", t, index);
  dispatch_all(t.dtype,
               [&]<typename T>() { t.data<T>()[i] = element_from_double<T>(value, "set"); });
}

template <typename U>
std::vector<U> Tensor::to_vector() const {
  const TensorImpl& t = impl_of(*this, "to_vector");
  return dispatch_all(t.dtype, [&]<typename T>() {
    const T* p = t.data<T>();
    std::vector<U> out(static_cast<std::size_t>(t.numel));
    for (std::int64_t i = 0; i < t.numel; ++i) out[i] = static_cast<U>(p[i]);
    return out;
  });
}

template <typename U>
U* Tensor::data() const {
  TensorImpl& t = impl_of(*this, "data");
  constexpr Dtype want = std::is_same_v<U, float>    ? kFloat32
                         : std::is_same_v<U, double> ? kFloat64
                                                     : kInt64;
  if (t.dtype != want)
    throw ValueError(
        msg("data: the tensor is ", dtype_name(t.dtype), ", asked for ", dtype_name(want)));
  return t.data<U>();
}

template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template std::int64_t* Tensor::data<std::int64_t>() const;

Tensor Tensor::detach() const {
  const TensorImpl& t = impl_of(*this, "detach");
  return Tensor(alias_impl(t, t.shape));
}

void Tensor::set_data(const Tensor& data) const {
  TensorImpl& t = impl_of(*this, "set_data");
  const TensorImpl& d = impl_of(data, "set_data");
  if (t.node)
    throw StateError(msg("set_data: only leaves can take new data; this tensor comes from op '",
                         t.node->op, "'"));
  if (t.requires_grad && !is_floating(d.dtype))
    throw ValueError(msg("set_data: a tensor that requires grad needs floating-point data: got ",
                         dtype_name(d.dtype)));
  if (t.grad && (t.grad->shape != d.shape || t.grad->dtype != d.dtype)) t.grad.reset();
  t.shape = d.shape;
  t.numel = d.numel;
  t.dtype = d.dtype;
  t.storage = d.storage;
}

const Tensor& Tensor::fill_(double value) const {
  TensorImpl& t = impl_of(*this, "fill_");
  check_inplace("fill_", t);
  dispatch_all(t.dtype, [&]<typename T>() {
    vec<T>(t).setConstant(element_from_double<T>(value, "fill_"));
  });
  return *this;
}

const Tensor& Tensor::mul_(double factor) const {
  TensorImpl& t = impl_of(*this, "mul_");
  check_inplace("mul_", t);
  dispatch_all(t.dtype, [&]<typename T>() {
    auto v = vec<T>(t);
    parallel_chunks(t.numel, [&](std::int64_t b, std::int64_t e) {
      v.segment(b, e - b) *= static_cast<T>(factor);
    });
  });
  return *this;
}

const Tensor& Tensor::add_(const Tensor& other, double alpha) const {
  TensorImpl& t = impl_of(*this, "add_");
  check_inplace("add_", t);
  NoGradGuard no_grad;
  Tensor src = other.dtype() == t.dtype ? other : other.to(t.dtype);
  if (broadcast_shapes("add_", t.shape, src.shape()) != t.shape)
    throw ShapeError(
        msg("add_: ", shape_str(src.shape()), " does not broadcast to ", shape_str(t.shape)));
  if (alpha != 1) src = src * alpha;
  dispatch_all(t.dtype, [&]<typename T>() {
    expand_into(t.data<T>(), t.shape, impl_ptr(src)->data<T>(), src.shape());
  });
  return *this;
}

const Tensor& Tensor::copy_(const Tensor& src) const {
  TensorImpl& t = impl_of(*this, "copy_");
  if (broadcast_shapes("copy_", t.shape, impl_of(src, "copy_").shape) != t.shape)
    throw ShapeError(
        msg("copy_: ", shape_str(src.shape()), " does not broadcast to ", shape_str(t.shape)));
  check_inplace("copy_", t);
  NoGradGuard no_grad;
  Tensor s = src.dtype() == t.dtype ? src : src.to(t.dtype);
  if (impl_ptr(s)->storage == t.storage) return *this;
  std::memset(t.storage->data, 0, t.bytes());
  dispatch_all(t.dtype, [&]<typename T>() {
    expand_into(t.data<T>(), t.shape, impl_ptr(s)->data<T>(), s.shape());
  });
  return *this;
}

// y = x converted to dtype d.   gx = g converted back (floating types only).
Tensor Tensor::to(Dtype d) const {
  const TensorImpl& ix = impl_of(*this, "to");
  if (ix.dtype == d) return *this;
  ImplPtr y = make_impl(ix.shape, d);
  dispatch_all(ix.dtype, [&]<typename S>() {
    if constexpr (std::is_floating_point_v<S>)
      if (d == kInt64) {
        // Truncation toward zero, as PyTorch; a value int64 cannot hold (NaN, Inf, beyond
        // +-2^63) would be undefined behaviour in the cast, so it is refused by position.
        const auto x = cvec<S>(ix);
        const S limit = S(9223372036854775808.0);
        if (!(x.isFinite() && x >= -limit && x < limit).all())
          for (std::int64_t i = 0; i < ix.numel; ++i)
            if (!(std::isfinite(x[i]) && x[i] >= -limit && x[i] < limit))
              throw ValueError(msg("to: element ", i, " is ", x[i], ", which int64 cannot hold"));
      }
    dispatch_all(d, [&]<typename D>() { vec<D>(*y) = cvec<S>(ix).template cast<D>(); });
  });
  return record("to", std::move(y), {*this},
                WithGraph{[](BackwardCtx& c) {
                            TensorImpl* gx = c.grad_in(0);
                            if (!gx) return;
                            dispatch_float(gx->dtype, "to", [&]<typename S>() {
                              dispatch_float(c.grad_out().dtype, "to", [&]<typename D>() {
                                vec<S>(*gx) += cvec<D>(c.grad_out()).template cast<S>();
                              });
                            });
                          },
                          [](GraphCtx& c) {
                            if (c.needs(0)) c.add(0, c.grad_out().to(c.in(0).dtype()));
                          }});
}

// y = a copy of x with its own storage.   gx = g.
Tensor Tensor::clone() const {
  const TensorImpl& ix = impl_of(*this, "clone");
  ImplPtr y = copy_impl(ix);
  return record("clone", std::move(y), {*this},
                WithGraph{[](BackwardCtx& c) {
                            if (TensorImpl* gx = c.grad_in(0)) add_into(*gx, c.grad_out());
                          },
                          [](GraphCtx& c) {
                            if (c.needs(0)) c.add(0, c.grad_out());
                          }});
}

}  // namespace tapegrad
