// Storage: its block from the caching allocator, and the count of live bytes.
#include "runtime/storage.h"

#include <atomic>
#include <new>

#include "runtime/allocator.h"
#include "tapegrad/core/runtime/memory.h"

namespace tapegrad {

namespace {
std::atomic<std::size_t> g_live_bytes{0};

// The header's share of a block: the data behind it stays 64-byte aligned.
constexpr std::size_t kHeader = 64;
static_assert(sizeof(Storage) <= kHeader);
// Data up to this size shares the header's block; larger data gets a block of its own, so its
// size class (and a large block's huge-page alignment) is the data's alone.
constexpr std::size_t kInlineMax = 1024 - kHeader;
}  // namespace

StoragePtr Storage::make(std::size_t n) {
  const bool inline_data = n <= kInlineMax;
  void* block = memory::allocate(inline_data ? kHeader + n : kHeader);
  Storage* s = new (block) Storage;
  s->inline_data_ = inline_data;
  s->bytes = n;
  if (inline_data) {
    s->data = static_cast<char*>(block) + kHeader;
  } else {
    try {
      s->data = memory::allocate(n);
    } catch (...) {
      memory::deallocate(block, kHeader);
      throw;
    }
  }
  g_live_bytes.fetch_add(n, std::memory_order_relaxed);
  return StoragePtr::adopt(s);
}

StoragePtr Storage::make_view(const StoragePtr& base, std::size_t offset, std::size_t n) {
  Storage* s = new (memory::allocate(kHeader)) Storage;
  s->owner_ = base->owner_ ? base->owner_ : base;  // a view of a view holds the block's owner
  s->data = static_cast<char*>(base->data) + offset;
  s->bytes = n;
  return StoragePtr::adopt(s);
}

void Storage::destroy(Storage* s) noexcept {
  if (s->owner_) {  // a view: the block and its bytes are the owner's
    s->~Storage();
    memory::deallocate(s, kHeader);
    return;
  }
  const std::size_t n = s->bytes;
  const bool inline_data = s->inline_data_;
  if (!inline_data) memory::deallocate(s->data, n);
  s->~Storage();
  memory::deallocate(s, inline_data ? kHeader + n : kHeader);
  g_live_bytes.fetch_sub(n, std::memory_order_relaxed);
}

std::size_t live_tensor_bytes() { return g_live_bytes.load(); }

}  // namespace tapegrad
