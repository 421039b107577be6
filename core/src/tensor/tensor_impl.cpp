// Making TensorImpls: fresh, zeroed, aliased or copied; and impl_of, the check every public
// entry point runs on a handle. Sizes are checked here, once, for every tensor made.
#include "tensor/tensor_impl.h"

#include <cstdint>
#include <cstring>
#include <new>

#include "autograd/node.h"
#include "runtime/allocator.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad {

TensorImpl& impl_of(const Tensor& t, const char* op) {
  if (!t.defined()) throw StateError(msg(op, ": the tensor is undefined"));
  return *impl_ptr(t);
}

ImplPtr new_impl() { return ImplPtr::adopt(new (memory::allocate(sizeof(TensorImpl))) TensorImpl); }

// TensorImpl's members (its node, gradient, storage) release what they own; a deep graph's
// entries recurse only to a fixed depth (Node::destroy's worklist takes the rest).
TensorImpl::~TensorImpl() = default;

void TensorImpl::destroy(TensorImpl* t) noexcept {
  t->~TensorImpl();
  memory::deallocate(t, sizeof(TensorImpl));
}

ImplPtr make_impl(Shape shape, Dtype dtype) {
  for (std::int64_t d : shape)
    if (d < 0) throw ShapeError(msg("tensor: negative size in shape ", shape_str(shape)));
  const std::int64_t numel = shape_numel(shape);
  if (static_cast<std::uint64_t>(numel) > PTRDIFF_MAX / dtype_size(dtype))
    throw ShapeError(msg("tensor: shape ", shape_str(shape), " of ", dtype_name(dtype),
                         " needs more bytes than memory can address"));
  ImplPtr t = new_impl();
  t->numel = numel;
  t->shape = std::move(shape);
  t->dtype = dtype;
  t->storage = Storage::make(t->bytes());
  return t;
}

ImplPtr make_zeros(Shape shape, Dtype dtype) {
  ImplPtr t = make_impl(std::move(shape), dtype);
  std::memset(t->storage->data, 0, t->bytes());
  return t;
}

ImplPtr alias_impl(const TensorImpl& src, const Shape& shape) {
  ImplPtr t = new_impl();
  t->shape = shape;
  t->numel = src.numel;
  t->dtype = src.dtype;
  t->storage = src.storage;
  return t;
}

ImplPtr view_impl(const TensorImpl& base, std::int64_t offset, const Shape& shape) {
  const std::int64_t numel = shape_numel(shape);
  if (offset < 0 || numel < 0 || offset > base.numel || numel > base.numel - offset)
    throw ValueError(
        msg("view: elements [", offset, ", ", offset + numel, ") of a tensor of ", base.numel));
  ImplPtr t = new_impl();
  t->shape = shape;
  t->numel = numel;
  t->dtype = base.dtype;
  const std::size_t size = dtype_size(base.dtype);
  t->storage = Storage::make_view(base.storage, static_cast<std::size_t>(offset) * size,
                                  static_cast<std::size_t>(numel) * size);
  return t;
}

ImplPtr copy_impl(const TensorImpl& src) {
  ImplPtr t = make_impl(src.shape, src.dtype);
  std::memcpy(t->storage->data, src.storage->data, src.bytes());
  return t;
}

}  // namespace tapegrad
