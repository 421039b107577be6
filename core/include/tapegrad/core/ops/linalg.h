// Matrix products and transposition.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// torch.matmul: (..., n, k)(..., k, m) -> (..., n, m), the batch dims (...) broadcasting as
/// NumPy's; a 1-D first operand is a row (k) and a 1-D second one a column (k), their dim
/// removed from the result ((k)(k) is a 0-d dot product, (k)(k, m) is (m)).
Tensor matmul(const Tensor& a, const Tensor& b);
/// torch.bmm: (B, n, k)(B, k, m) -> (B, n, m), batch sizes equal (no broadcasting).
Tensor bmm(const Tensor& a, const Tensor& b);
/// A copy with dims d0 and d1 swapped (negative dims count from the end).
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);

/// y = x w^T + b, fused (one GEMM, bias added in the same pass): x (..., n_in), w (n_out, n_in),
/// b (n_out) or undefined -> y (..., n_out). The layout of PyTorch's nn.Linear.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

/// Transpose of a 2-D tensor.
Tensor t(const Tensor& x);

}  // namespace tapegrad
