// Selection by a mask or by position: where(cond, a, b), masked_fill, tril and triu.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// a where cond is non-zero, b elsewhere; cond, a and b broadcast together. Each gradient flows
/// to the elements chosen from it.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// The same, with b a scalar.
Tensor where(const Tensor& cond, const Tensor& a, double b);
/// The same, with a a scalar.
Tensor where(const Tensor& cond, double a, const Tensor& b);

/// x with value wherever mask (broadcast to x's shape) is non-zero; no gradient flows there.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

/// torch.tril / torch.triu: each matrix of x's last two dims with the elements above (tril) or
/// below (triu) the diagonal set to 0; diagonal 0 is the main one, > 0 above it, < 0 below
/// it (tril(x, -1) drops the main diagonal too). x needs at least 2 dims. The gradient flows
/// to the kept elements.
///@{
Tensor tril(const Tensor& x, std::int64_t diagonal = 0);
Tensor triu(const Tensor& x, std::int64_t diagonal = 0);
///@}

}  // namespace tapegrad
