// Tensor's member functions: shape queries, element access, autograd flags and the in-place
// updates that optimizers use. Method forms of ops forward to the free functions in ops.h.
#include <atomic>
#include <cstring>

#include "kernels.h"
#include "tapegrad/core/autograd.h"
#include "tapegrad/core/ops.h"

namespace tapegrad {

Tensor::Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

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
  ++t.storage->version;
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

bool Tensor::requires_grad() const {
  const TensorImpl& t = impl_of(*this, "requires_grad");
  return t.requires_grad || t.node != nullptr;
}

const Tensor& Tensor::requires_grad_(bool on) const {
  TensorImpl& t = impl_of(*this, "requires_grad_");
  if (t.node)
    throw StateError(msg("requires_grad_: only leaves can be marked; this tensor comes from op '",
                         t.node->op, "' (use detach() to make a leaf)"));
  if (on && !is_floating(t.dtype))
    throw ValueError(
        msg("requires_grad_: only floating-point tensors can require gradients: "
            "got ",
            dtype_name(t.dtype)));
  t.requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl_of(*this, "is_leaf").node == nullptr; }

std::string Tensor::grad_fn() const {
  const TensorImpl& t = impl_of(*this, "grad_fn");
  return t.node ? t.node->op : "";
}

Tensor Tensor::grad() const {
  const TensorImpl& t = impl_of(*this, "grad");
  return t.grad ? Tensor(t.grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  TensorImpl& t = impl_of(*this, "set_grad");
  if (!g.defined()) {
    t.grad.reset();
    return;
  }
  const TensorImpl& ig = *impl_ptr(g);
  if (ig.shape != t.shape || ig.dtype != t.dtype)
    throw ValueError(msg("set_grad: the gradient is ", dtype_name(ig.dtype), " ",
                         shape_str(ig.shape), " but the tensor is ", dtype_name(t.dtype), " ",
                         shape_str(t.shape)));
  check_floating("set_grad", ig);
  t.grad = impl_ptr(g.detach());  // the same storage, cut from any graph
}

void Tensor::zero_grad() const {
  TensorImpl& t = impl_of(*this, "zero_grad");
  if (t.grad) std::memset(t.grad->storage->data, 0, t.grad->bytes());
}

const Tensor& Tensor::retain_grad() const {
  TensorImpl& t = impl_of(*this, "retain_grad");
  if (!t.requires_grad && !t.node)
    throw StateError("retain_grad: the tensor does not require grad");
  if (t.node) t.retains_grad = true;
  return *this;
}

namespace {
std::atomic<std::size_t> g_grad_hooks{0};
std::atomic<int> g_next_grad_hook{0};
}  // namespace

std::size_t registered_grad_hooks() { return g_grad_hooks.load(std::memory_order_acquire); }
void count_grad_hooks(std::ptrdiff_t delta) {
  g_grad_hooks.fetch_add(static_cast<std::size_t>(delta), std::memory_order_acq_rel);
}
GradHooks::GradHooks() = default;
GradHooks::~GradHooks() { count_grad_hooks(-static_cast<std::ptrdiff_t>(list->size())); }

int Tensor::register_post_accumulate_grad_hook(std::function<void(const Tensor&)> fn) const {
  TensorImpl& t = impl_of(*this, "register_post_accumulate_grad_hook");
  if (t.node)
    throw StateError(
        msg("register_post_accumulate_grad_hook: only leaves accumulate gradients; "
            "this tensor comes from op '",
            t.node->op, "'"));
  if (!t.requires_grad)
    throw StateError("register_post_accumulate_grad_hook: the tensor does not require grad");
  if (!fn) throw ValueError("register_post_accumulate_grad_hook: the function is empty");
  if (!t.grad_hooks) t.grad_hooks = std::make_unique<GradHooks>();
  const int handle = g_next_grad_hook.fetch_add(1, std::memory_order_relaxed);
  auto list = std::make_shared<GradHooks::List>(*t.grad_hooks->list);
  list->emplace_back(handle, std::move(fn));
  t.grad_hooks->list = std::move(list);
  count_grad_hooks(1);
  return handle;
}

void Tensor::remove_post_accumulate_grad_hook(int handle) const {
  TensorImpl& t = impl_of(*this, "remove_post_accumulate_grad_hook");
  if (!t.grad_hooks) return;
  auto list = std::make_shared<GradHooks::List>(*t.grad_hooks->list);
  const std::size_t removed =
      std::erase_if(*list, [&](const auto& h) { return h.first == handle; });
  t.grad_hooks->list = std::move(list);
  count_grad_hooks(-static_cast<std::ptrdiff_t>(removed));
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

// ---- method forms ----
Tensor Tensor::sum() const { return tapegrad::sum(*this); }
Tensor Tensor::sum(std::int64_t d, bool k) const { return tapegrad::sum(*this, d, k); }
Tensor Tensor::mean() const { return tapegrad::mean(*this); }
Tensor Tensor::mean(std::int64_t d, bool k) const { return tapegrad::mean(*this, d, k); }
Tensor Tensor::max() const { return tapegrad::max(*this); }
Tensor Tensor::min() const { return tapegrad::min(*this); }
Tensor Tensor::argmax(std::int64_t d, bool k) const { return tapegrad::argmax(*this, d, k); }
Tensor Tensor::reshape(const Shape& s) const { return tapegrad::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return tapegrad::view(*this, s); }
Tensor Tensor::flatten(std::int64_t a, std::int64_t b) const {
  return tapegrad::flatten(*this, a, b);
}
Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
  return tapegrad::transpose(*this, a, b);
}
Tensor Tensor::t() const { return tapegrad::t(*this); }
Tensor Tensor::matmul(const Tensor& o) const { return tapegrad::matmul(*this, o); }
Tensor Tensor::pow(double p) const { return tapegrad::pow(*this, p); }
Tensor Tensor::exp() const { return tapegrad::exp(*this); }
Tensor Tensor::log() const { return tapegrad::log(*this); }
Tensor Tensor::sqrt() const { return tapegrad::sqrt(*this); }
Tensor Tensor::abs() const { return tapegrad::abs(*this); }
Tensor Tensor::sigmoid() const { return tapegrad::sigmoid(*this); }
Tensor Tensor::tanh() const { return tapegrad::tanh(*this); }
Tensor Tensor::relu() const { return tapegrad::relu(*this); }
Tensor Tensor::softmax(std::int64_t d) const { return tapegrad::softmax(*this, d); }
Tensor Tensor::log_softmax(std::int64_t d) const { return tapegrad::log_softmax(*this, d); }
Tensor Tensor::narrow(std::int64_t d, std::int64_t s, std::int64_t n) const {
  return tapegrad::narrow(*this, d, s, n);
}
Tensor Tensor::index_select(std::int64_t d, const Tensor& i) const {
  return tapegrad::index_select(*this, d, i);
}
Tensor Tensor::gather(std::int64_t d, const Tensor& i) const {
  return tapegrad::gather(*this, d, i);
}
Tensor Tensor::unsqueeze(std::int64_t d) const { return tapegrad::unsqueeze(*this, d); }
Tensor Tensor::squeeze() const { return tapegrad::squeeze(*this); }
Tensor Tensor::squeeze(std::int64_t d) const { return tapegrad::squeeze(*this, d); }
Tensor Tensor::permute(const std::vector<std::int64_t>& d) const {
  return tapegrad::permute(*this, d);
}
Tensor Tensor::expand(const Shape& s) const { return tapegrad::expand(*this, s); }
Tensor Tensor::repeat(const std::vector<std::int64_t>& r) const {
  return tapegrad::repeat(*this, r);
}
Tensor Tensor::flip(const std::vector<std::int64_t>& d) const { return tapegrad::flip(*this, d); }
Tensor Tensor::masked_fill(const Tensor& m, double v) const {
  return tapegrad::masked_fill(*this, m, v);
}
Tensor Tensor::square() const { return tapegrad::square(*this); }

}  // namespace tapegrad
