// Thread control: one number governs OpenMP's elementwise loops and the split matrix products.
#pragma once

namespace tapegrad {

/// Threads used by kernels from now on (n >= 1).
void set_num_threads(int n);
int get_num_threads();

}  // namespace tapegrad
