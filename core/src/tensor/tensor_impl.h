// What a Tensor handle points at: storage, shape, dtype and, for results of recorded ops, the
// tape entry (Node) that made them; and the helpers that make one. Internal to tapegrad's
// libraries; never installed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "autograd/hooks.h"
#include "runtime/storage.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

struct Node;

using NodePtr = RefPtr<Node>;

struct TensorImpl : RefCounted<TensorImpl> {
  /// Frees t (the last handle went), to the caching allocator it came from.
  static void destroy(TensorImpl* t) noexcept;
  static constexpr bool kSoleReleaseUnlocked = true;  // no weak references (RefCounted)
  TensorImpl() = default;
  ~TensorImpl();  // out of line: it releases the node, whose type is complete only there
  Shape shape;
  std::int64_t numel = 0;
  Dtype dtype = kFloat32;
  StoragePtr storage;
  bool requires_grad = false;  // leaves only; a non-leaf requires grad through its node
  bool retains_grad = false;
  RefPtr<TensorImpl>
      grad;      // accumulated gradient (leaves; a non-leaf's retained one is its node's)
  NodePtr node;  // the tape entry that produced this tensor, if any
  std::unique_ptr<GradHooks> grad_hooks;  // leaves only; usually none

  template <typename T>
  T* data() const {
    return static_cast<T*>(storage->data);
  }
  std::size_t bytes() const { return static_cast<std::size_t>(numel) * dtype_size(dtype); }
};

using ImplPtr = RefPtr<TensorImpl>;

/// A new, empty TensorImpl (no shape, no storage) from the caching allocator.
ImplPtr new_impl();

namespace detail {
struct TensorAccess {
  static const ImplPtr& impl(const Tensor& t) { return t.impl_; }
};
}  // namespace detail

/// The implementation behind a handle (null for an undefined tensor).
inline const ImplPtr& impl_ptr(const Tensor& t) { return detail::TensorAccess::impl(t); }

/// A tensor with fresh, uninitialised storage.
ImplPtr make_impl(Shape shape, Dtype dtype);
/// A tensor with fresh zeroed storage.
ImplPtr make_zeros(Shape shape, Dtype dtype);
/// A new handle on src's storage with another shape of the same numel (views, detach).
ImplPtr alias_impl(const TensorImpl& src, const Shape& shape);
/// A tensor of `shape` on base's elements from element `offset` on, in a storage of its own
/// (Storage::make_view): writes through either show in both. ValueError when the range does not
/// fit in base. Storage identity no longer means disjoint memory: views of one block overlap
/// with other storages, so a caller must not copy between overlapping ones.
ImplPtr view_impl(const TensorImpl& base, std::int64_t offset, const Shape& shape);
/// view_impl for handles.
inline Tensor view_of(const Tensor& base, std::int64_t offset, const Shape& shape) {
  return Tensor(view_impl(*impl_ptr(base), offset, shape));
}
/// True when a and b are on the same storage object (a view made by view_impl has its own, so
/// two views of one block are not the same storage even where they overlap).
inline bool same_storage(const Tensor& a, const Tensor& b) {
  return impl_ptr(a)->storage.get() == impl_ptr(b)->storage.get();
}
/// A copy of src's values in fresh storage of the same shape and dtype.
ImplPtr copy_impl(const TensorImpl& src);

/// t's values were written in place (an optimizer step, a running statistic, values received
/// from other ranks): bumps its storage's version, so a graph that saved t refuses its backward
/// instead of differentiating at the new values, as torch's in-place ops do.
inline void mark_written(TensorImpl& t) { ++t.storage->version; }
inline void mark_written(const Tensor& t) { mark_written(*impl_ptr(t)); }

/// Throws StateError when t is undefined; returns its impl.
TensorImpl& impl_of(const Tensor& t, const char* op);

}  // namespace tapegrad
