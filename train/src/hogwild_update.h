// Hogwild's two touches of a shared tensor, element by element through std::atomic_ref: the
// read before a worker's step and the update after it. A header of their own so that bench/ can
// time them against the plain loop a data race would be.
#pragma once
#include <atomic>
#include <bit>
#include <cstdint>

#include "tapegrad/train/hogwild.h"

namespace tapegrad::train::detail {

static_assert(std::atomic_ref<float>::is_always_lock_free &&
                  std::atomic_ref<double>::is_always_lock_free &&
                  std::atomic_ref<std::int64_t>::is_always_lock_free,
              "Hogwild's updates need lock-free atomics");

// Same bits (a float's == would call -0 and 0 equal and a NaN unequal to itself).
template <typename T>
inline bool same_bits(T a, T b) {
  if constexpr (sizeof(T) == 4)
    return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
  else
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

// The shared values, as they are at this moment, into `into`.
template <typename T>
void read_shared(T* shared, T* into, std::int64_t n) {
  for (std::int64_t j = 0; j < n; ++j)
    into[j] = std::atomic_ref<T>(shared[j]).load(std::memory_order_relaxed);
}

// The step took each element from was[j] to now[j]. An element nobody else changed since the
// read gets now[j] itself; one that changed gets the difference added to its current value.
template <typename T>
void publish(T* shared, const T* was, const T* now, std::int64_t n, HogwildUpdate how) {
  for (std::int64_t j = 0; j < n; ++j) {
    if (same_bits(was[j], now[j])) continue;  // nothing to add (a frozen or unused element)
    std::atomic_ref<T> ref(shared[j]);
    T current = was[j];
    if (how == HogwildUpdate::Add) {
      if (ref.compare_exchange_strong(current, now[j], std::memory_order_relaxed)) continue;
      const T delta = now[j] - was[j];
      while (!ref.compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
      }
    } else {
      current = ref.load(std::memory_order_relaxed);
      ref.store(same_bits(current, was[j]) ? now[j] : current + (now[j] - was[j]),
                std::memory_order_relaxed);
    }
  }
}

}  // namespace tapegrad::train::detail
