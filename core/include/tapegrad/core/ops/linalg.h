// Matrix products and transposition.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Operands matmul reads transposed in their last two dims, without making the transpose.
struct MatmulOptions {
  bool transpose_a = false;  ///< a is (..., k, n) and read as its transpose (..., n, k)
  bool transpose_b = false;  ///< b is (..., m, k) and read as its transpose (..., k, m)
};

/// torch.matmul: (..., n, k)(..., k, m) -> (..., n, m), the batch dims (...) broadcasting as
/// NumPy's; a 1-D first operand is a row (k) and a 1-D second one a column (k), their dim
/// removed from the result ((k)(k) is a 0-d dot product, (k)(k, m) is (m)). With opts, an
/// operand of two or more dims is read transposed, so attention's q k^T is
/// matmul(q, k, {.transpose_b = true}): the same numbers as matmul(q, transpose(k, -2, -1))
/// with no copy of k made, forward or backward.
Tensor matmul(const Tensor& a, const Tensor& b, MatmulOptions opts = {});
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
