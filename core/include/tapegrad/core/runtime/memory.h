// How much memory tensors hold, and the cache that keeps freed blocks for reuse.
#pragma once
#include <cstddef>

namespace tapegrad {

/// Bytes of tensor storage alive in the process (all tensors, on the tape or not).
std::size_t live_tensor_bytes();

/// Bytes of freed tensor and tape memory this thread keeps for reuse. A training step frees
/// and re-allocates the same sizes every iteration, so blocks are cached per thread (up to
/// 1 GiB) instead of going back to the system; peak memory stays that of the largest step.
std::size_t cached_tensor_bytes();

/// Hands this thread's cached blocks back to the system (e.g. after a large evaluation pass) and
/// asks glibc to return its free memory to the OS (malloc_trim), so the resident size drops.
void empty_cache();

}  // namespace tapegrad
