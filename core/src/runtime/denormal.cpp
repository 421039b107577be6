// set_flush_denormal: the MXCSR bits, on this thread and on its OpenMP team's threads (each
// thread has its own MXCSR; a new thread starts with a copy of its creator's).
#include "tapegrad/core/runtime/denormal.h"

#include <omp.h>

#include <algorithm>

#include "runtime/team.h"

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
  set_here(on);
  // libgomp keeps a pool of threads per thread that starts regions and reuses them; a region as
  // large as any this thread may start reaches every one (a later, larger region's new threads
  // copy this thread's mode).
  const int n = std::max({omp_get_max_threads(), omp_get_num_procs(), detail::thread_cap()});
#pragma omp parallel num_threads(n)
  set_here(on);
  return true;
}
#else
bool set_flush_denormal(bool) { return false; }
#endif

}  // namespace tapegrad
