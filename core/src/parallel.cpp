// Thread control: OpenMP's thread count, which elementwise loops and gemm.h's split products
// (and OpenBLAS's OpenMP build) all follow.
#include "tapegrad/core/parallel.h"

#include <omp.h>

#include "check.h"

namespace tapegrad {

void set_num_threads(int n) {
  if (n < 1) throw ValueError(msg("set_num_threads: need at least 1 thread, got ", n));
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace tapegrad
