// Reading a tensor at flat offsets, and its adjoint, adding into flat offsets: the recorded
// gradients of the indexing ops (gather, index_select, embedding, sort/topk, pad). Each is
// the other's gradient, so an indexing op is differentiable to any order through them.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Flat (row-major) offsets into a tensor; a negative offset names no element.
using Offsets = std::shared_ptr<const std::vector<std::int64_t>>;

/// y of `shape` (one element per offset): y[p] = x.flat[off[p]], 0 where off[p] < 0.
Tensor take_at(const Tensor& x, Offsets off, const Shape& shape);

/// y = zeros of `shape`; y.flat[off[p]] += g.flat[p] for every off[p] >= 0 (one offset per
/// element of g).
Tensor put_add_at(const Tensor& g, Offsets off, const Shape& shape);

}  // namespace tapegrad
