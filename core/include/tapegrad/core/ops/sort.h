// Ordering along a dim: sort, argsort and topk (what sampling from a language model needs), with
// torch's ordering: NaN counts as larger than every number, and equal elements keep their order
// (every sort here is stable).
#pragma once
#include <cstdint>
#include <utility>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Values sorted along dim (ascending unless descending) and their indices in x (int64), as
/// torch.sort. NaN sorts as the largest value (last ascending, first descending); equal values
/// keep their order whatever `stable` says (torch leaves it unspecified without stable, so
/// this is one of its allowed answers). The gradient goes to the elements the values came from.
std::pair<Tensor, Tensor> sort(const Tensor& x, std::int64_t dim = -1, bool descending = false,
                               bool stable = false);

/// The indices that sort x along dim (int64, no gradient): sort(x, ...).second.
Tensor argsort(const Tensor& x, std::int64_t dim = -1, bool descending = false,
               bool stable = false);

/// The k largest (or, with largest false, smallest) values along dim and their indices, as
/// torch.topk: 0 <= k <= the dim's size. They come in order (largest first, or smallest
/// first), NaN counting as the largest value and ties going to the earlier index; with sorted
/// false torch leaves the order open, and this order is one of its answers. The gradient goes
/// to the elements chosen.
std::pair<Tensor, Tensor> topk(const Tensor& x, std::int64_t k, std::int64_t dim = -1,
                               bool largest = true, bool sorted = true);

}  // namespace tapegrad
