// Storage: the memory behind a tensor and its views, from the caching allocator; live bytes are
// counted so tests can prove memory stays flat.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tapegrad/core/detail/ref_ptr.h"

namespace tapegrad {

struct Storage;
using StoragePtr = RefPtr<Storage>;

/// One 64-byte-aligned block of elements, shared by a tensor and its views (or, for a view
/// storage, a range inside another's block, aligned as its offset makes it). A small block sits
/// right behind its header in one allocation (a scalar op's result costs one allocation, not
/// three: control block, header and data).
struct Storage : RefCounted<Storage> {
  /// A new block of `bytes` bytes, uninitialised. Throws std::bad_alloc.
  static StoragePtr make(std::size_t bytes);
  /// A storage for `bytes` bytes of base's block from byte `offset` on (the caller checks the
  /// range), keeping base alive: a tensor on it is a view into the middle of another tensor,
  /// as data-parallel training's gradients in their reduction buffer. It has its own version.
  static StoragePtr make_view(const StoragePtr& base, std::size_t offset, std::size_t bytes);
  static void destroy(Storage* s) noexcept;
  static constexpr bool kSoleReleaseUnlocked = true;  // no weak references (RefCounted)
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data = nullptr;
  std::size_t bytes = 0;
  std::uint32_t version = 0;  // bumped by every in-place update; the tape checks it

 private:
  Storage() = default;
  ~Storage() = default;
  bool inline_data_ = false;
  StoragePtr owner_;  // set for a view: the storage whose block data points into
};

}  // namespace tapegrad
