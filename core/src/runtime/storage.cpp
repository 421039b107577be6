// Storage: its block from the caching allocator, and the count of live bytes.
#include "runtime/storage.h"

#include <atomic>

#include "runtime/allocator.h"
#include "tapegrad/core/runtime/memory.h"

namespace tapegrad {

namespace {
std::atomic<std::size_t> g_live_bytes{0};
}  // namespace

Storage::Storage(std::size_t n) : data(memory::allocate(n)), bytes(n) { g_live_bytes += bytes; }

Storage::~Storage() {
  memory::deallocate(data, bytes);
  g_live_bytes -= bytes;
}

std::size_t live_tensor_bytes() { return g_live_bytes.load(); }

}  // namespace tapegrad
