// Thread control: one number governs both OpenMP's elementwise loops and Eigen's GEMM threads.
#pragma once

namespace tapegrad {

/// Threads used by kernels from now on (n >= 1).
void set_num_threads(int n);
int get_num_threads();

}  // namespace tapegrad
