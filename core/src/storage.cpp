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

}  // namespace tapegrad
