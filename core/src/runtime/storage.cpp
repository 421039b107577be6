// Storage: its block from the caching allocator, and the count of live bytes.
#include "runtime/storage.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <new>

#include "runtime/allocator.h"
#include "tapegrad/core/runtime/memory.h"

namespace tapegrad {

namespace {
// Live bytes are counted per thread: one shared atomic counter cost two locked instructions per
// tensor, about 6% of a recorded scalar op. Each thread adds to its own slot with a plain load
// and store (only it writes there; atomic so that another thread reads a whole value), and
// live_tensor_bytes() sums the slots. A slot outlives its thread, as its net count must stay in
// the sum (what one thread allocates another may free), and is never freed: one 64-byte block
// per thread the process ever ran, reachable from g_slots. The sum is exact while no other
// thread is making or freeing tensors (tests read it then); in between it may lag.
struct alignas(64) LiveSlot {  // a line of its own: no two threads write one line
  std::atomic<std::int64_t> bytes{0};
  LiveSlot* next = nullptr;
};
std::atomic<LiveSlot*> g_slots{nullptr};
thread_local LiveSlot* t_slot = nullptr;  // trivially destructible: usable while a thread ends

void count_live(std::int64_t n) noexcept {
  LiveSlot* s = t_slot;
  if (!s) {
    s = new (std::nothrow) LiveSlot;
    if (!s) std::terminate();  // a few bytes, once per thread: nothing sensible is left to do
    s->next = g_slots.load(std::memory_order_relaxed);
    while (!g_slots.compare_exchange_weak(s->next, s, std::memory_order_release,
                                          std::memory_order_relaxed)) {
    }
    t_slot = s;
  }
  s->bytes.store(s->bytes.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

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
  count_live(static_cast<std::int64_t>(n));
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
  count_live(-static_cast<std::int64_t>(n));
}

std::size_t live_tensor_bytes() {
  std::int64_t sum = 0;
  for (const LiveSlot* s = g_slots.load(std::memory_order_acquire); s; s = s->next)
    sum += s->bytes.load(std::memory_order_relaxed);
  return static_cast<std::size_t>(std::max<std::int64_t>(sum, 0));  // a read between a free
                                                                    // and its allocation
}

}  // namespace tapegrad
