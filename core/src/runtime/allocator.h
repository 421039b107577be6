// The caching allocator behind tensor storage and tape bookkeeping. A training step frees and
// re-allocates the same sizes every iteration; keeping those blocks in a per-thread cache
// instead of handing them back to malloc removes most of the per-op cost on small networks and
// the page faults of re-mapping large buffers on big ones (as PyTorch's CUDA allocator does).
#pragma once
#include <cstddef>

// Set when AddressSanitizer instruments this build: gcc says so with a macro, clang 16 only
// through a feature test.
#if defined(__SANITIZE_ADDRESS__)
#define TAPEGRAD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAPEGRAD_ASAN 1
#endif
#endif

namespace tapegrad::memory {

/// At least `bytes` bytes, 64-byte aligned, from this thread's cache when it holds a block of
/// the same size class. Throws std::bad_alloc.
void* allocate(std::size_t bytes);
/// Returns a block from allocate() with the same `bytes`; it goes to the calling thread's cache.
void deallocate(void* p, std::size_t bytes) noexcept;

/// std::allocator-compatible handle on the cache, for allocate_shared of tapegrad's objects.
template <typename T>
struct CachingAllocator {
  using value_type = T;
  CachingAllocator() = default;
  template <typename U>
  CachingAllocator(const CachingAllocator<U>&) {}  // NOLINT: rebinding is implicit by design
  T* allocate(std::size_t n) { return static_cast<T*>(memory::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { memory::deallocate(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const CachingAllocator<U>&) const {
    return true;
  }
};

}  // namespace tapegrad::memory
