// Storage allocation and the small helpers that make TensorImpls; counts live bytes so tests
// can prove memory stays flat.
#include <cstdlib>
#include <cstring>
#include <new>

#include "check.h"
#include "tapegrad/core/autograd.h"
#include "tensor_impl.h"

namespace tapegrad {

namespace {
std::atomic<std::size_t> g_live_bytes{0};
constexpr std::size_t kAlign = 64;  // a cache line, and enough for AVX-512 loads
}  // namespace

Storage::Storage(std::size_t n) : bytes(n) {
  const std::size_t rounded = (n + kAlign - 1) / kAlign * kAlign;
  data = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  if (!data) throw std::bad_alloc();
  g_live_bytes += bytes;
}

Storage::~Storage() {
  std::free(data);
  g_live_bytes -= bytes;
}

std::size_t live_tensor_bytes() { return g_live_bytes.load(); }

const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Int64: return "int64";
  }
  return "?";
}

std::size_t dtype_size(Dtype d) { return d == Dtype::Float32 ? 4 : 8; }

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::int64_t shape_numel(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s) n *= d;
  return n;
}

ImplPtr make_impl(const Shape& shape, Dtype dtype) {
  for (std::int64_t d : shape)
    if (d < 0) throw ShapeError(msg("tensor: negative size in shape ", shape_str(shape)));
  auto t = std::make_shared<TensorImpl>();
  t->shape = shape;
  t->numel = shape_numel(shape);
  t->dtype = dtype;
  t->storage = std::make_shared<Storage>(t->bytes());
  return t;
}

ImplPtr make_zeros(const Shape& shape, Dtype dtype) {
  ImplPtr t = make_impl(shape, dtype);
  std::memset(t->storage->data, 0, t->bytes());
  return t;
}

ImplPtr alias_impl(const TensorImpl& src, const Shape& shape) {
  auto t = std::make_shared<TensorImpl>();
  t->shape = shape;
  t->numel = src.numel;
  t->dtype = src.dtype;
  t->storage = src.storage;
  return t;
}

TensorImpl& impl_of(const Tensor& t, const char* op) {
  if (!t.defined()) throw StateError(msg(op, ": the tensor is undefined"));
  return *t.impl();
}

std::int64_t normalize_dim(const char* op, std::int64_t dim, std::int64_t rank) {
  const std::int64_t r = std::max<std::int64_t>(rank, 1);
  if (dim < -r || dim >= r)
    throw ValueError(msg(op, ": dim out of range: got ", dim, " for a tensor of rank ", rank,
                         " (expected ", -r, " to ", r - 1, ")"));
  return dim < 0 ? dim + r : dim;
}

void check_floating(const char* op, const TensorImpl& t) {
  if (!is_floating(t.dtype))
    throw ValueError(msg(op, ": needs a floating-point tensor: got ", dtype_name(t.dtype),
                         "; convert with .to(kFloat32)"));
}

void check_index_dtype(const char* op, const char* name, const TensorImpl& t) {
  if (t.dtype != kInt64)
    throw ValueError(msg(op, ": ", name, " must be int64: got ", dtype_name(t.dtype)));
}

void check_rank(const char* op, const char* name, const TensorImpl& t, std::int64_t rank) {
  if (static_cast<std::int64_t>(t.shape.size()) != rank)
    throw ShapeError(msg(op, ": ", name, " must have ", rank, " dims: got shape ",
                         shape_str(t.shape)));
}

}  // namespace tapegrad
