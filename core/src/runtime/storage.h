// Storage: the memory behind a tensor and its views, from the caching allocator; live bytes are
// counted so tests can prove memory stays flat.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tapegrad {

/// One 64-byte-aligned block of elements, shared by a tensor and its views.
struct Storage {
  explicit Storage(std::size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  std::size_t bytes = 0;
  std::uint32_t version = 0;  // bumped by every in-place update; the tape checks it
};

}  // namespace tapegrad
