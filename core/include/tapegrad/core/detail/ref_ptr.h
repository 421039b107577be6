// RefPtr: an owning pointer whose count lives in the object (an intrusive reference count).
// shared_ptr keeps its counts in a control block, so every copy and release touches a second
// cache line, a weak count and a virtual dispose; a tensor op makes and drops several of them,
// and on small tensors that was a large part of its cost.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace tapegrad {

/// The count a RefPtr<T> keeps in T: T derives from RefCounted<T> and defines
/// `static void destroy(T*) noexcept`, which RefPtr calls when the last reference goes.
/// A T that never hands out a reference from a raw pointer (no weak references) may also
/// declare `static constexpr bool kSoleReleaseUnlocked = true`: dropping the only reference
/// then destroys it without a locked decrement.
template <typename T>
struct RefCounted {
  /// References alive; an object starts with the one RefPtr::adopt takes over.
  mutable std::atomic<std::uint32_t> refs{1};
};

/// An owning pointer to a RefCounted object. Copies and releases are atomic, so handles may be
/// copied and dropped on any thread, as shared_ptr's may.
template <typename T>
class RefPtr {
 public:
  /// Null, as a default shared_ptr (also implicitly from nullptr).
  ///@{
  RefPtr() noexcept = default;
  RefPtr(std::nullptr_t) noexcept {}  // NOLINT: as shared_ptr, null converts implicitly
  ///@}
  /// Takes over the reference a new object starts with.
  static RefPtr adopt(T* p) noexcept {
    RefPtr r;
    r.p_ = p;
    return r;
  }
  /// Copies add a reference, moves take it over, and the destructor drops it (destroying the
  /// object with the last one), as shared_ptr's do.
  ///@{
  RefPtr(const RefPtr& o) noexcept : p_(o.p_) { retain(); }
  RefPtr(RefPtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  RefPtr& operator=(const RefPtr& o) noexcept {
    RefPtr(o).swap(*this);
    return *this;
  }
  RefPtr& operator=(RefPtr&& o) noexcept {
    RefPtr(std::move(o)).swap(*this);
    return *this;
  }
  ~RefPtr() { release(); }
  ///@}

  /// Access and queries, as shared_ptr's: reset() drops the reference and leaves null.
  ///@{
  void reset() noexcept { RefPtr().swap(*this); }
  void swap(RefPtr& o) noexcept { std::swap(p_, o.p_); }
  T* get() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  T* operator->() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  ///@}
  /// References alive now (a snapshot: other threads may change it).
  long use_count() const noexcept {
    return p_ ? static_cast<long>(p_->refs.load(std::memory_order_relaxed)) : 0;
  }
  /// Whether two pointers name the same object (or both are null).
  ///@{
  friend bool operator==(const RefPtr& a, const RefPtr& b) noexcept { return a.p_ == b.p_; }
  friend bool operator==(const RefPtr& a, std::nullptr_t) noexcept { return a.p_ == nullptr; }
  ///@}

 private:
  void retain() const noexcept {
    if (p_) p_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  // acq_rel: every write through other references happens before the destruction.
  void release() noexcept {
    if (!p_) return;
    if constexpr (requires { requires T::kSoleReleaseUnlocked; }) {
      // The only reference: no other thread holds one to copy, so the count cannot change
      // under us, and the acquire load reads the last other holder's releasing decrement.
      // Saves the locked update most tensors and storages end with.
      if (p_->refs.load(std::memory_order_acquire) == 1) return T::destroy(p_);
    }
    if (p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) T::destroy(p_);
  }
  T* p_ = nullptr;
};

}  // namespace tapegrad
