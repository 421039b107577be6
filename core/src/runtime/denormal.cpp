// set_flush_denormal: the MXCSR bits, on this thread and on its OpenMP team's threads (each
// thread has its own MXCSR; a new thread starts with a copy of its creator's).
#include "tapegrad/core/runtime/denormal.h"

#include <omp.h>

#include <algorithm>

#include "runtime/team.h"
#include "tapegrad/core/errors.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace tapegrad {

#if defined(__x86_64__)
namespace {
// MXCSR bit 15 (flush-to-zero: a subnormal result becomes 0) and bit 6 (denormals-are-zero: a
// subnormal operand is read as 0).
constexpr unsigned kFlushBits = 0x8040;

void set_here(bool on) {
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? csr | kFlushBits : csr & ~kFlushBits);
}
}  // namespace

bool set_flush_denormal(bool on) {
  // Inside a region a new one would run on this thread alone, leaving the mode half-applied.
  if (detail::nested())
    throw StateError(
        "set_flush_denormal: called inside a parallel region or a piece of split work; call it "
        "from the thread that runs the kernels");
  set_here(on);
  // libgomp keeps a pool of threads for each thread that starts regions. A region of 2 or more
  // reuses the pool's threads and ends any beyond its size, so one such region reaches every
  // pool thread; threads a later, larger region adds are created by this thread and start with
  // a copy of its MXCSR. (A region of 1 would not touch the pool.)
  const int n = std::max(2, detail::thread_cap());
#pragma omp parallel num_threads(n)
  set_here(on);
  return true;
}
#else
bool set_flush_denormal(bool) { return false; }
#endif

}  // namespace tapegrad
