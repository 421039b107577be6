// Matrix products and transposition.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// 2-D (n x k)(k x m); 3-D batched, a batch of 1 (or a 2-D operand) broadcasting over the other.
Tensor matmul(const Tensor& a, const Tensor& b);
/// A copy with dims d0 and d1 swapped (negative dims count from the end).
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);

/// y = x w^T + b, fused (one GEMM, bias added in the same pass): x (..., n_in), w (n_out, n_in),
/// b (n_out) or undefined -> y (..., n_out). The layout of PyTorch's nn.Linear.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

/// Transpose of a 2-D tensor.
Tensor t(const Tensor& x);

}  // namespace tapegrad
