// Shape ops: views (reshape, view, flatten, unsqueeze, squeeze), broadcasting copies (expand,
// repeat), slices and splits, row selection (index_select).
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Same elements, new shape (one size may be -1); shares storage.
Tensor reshape(const Tensor& x, const Shape& shape);
/// The same as reshape (a tensor's storage is always contiguous, so every reshape is a view).
Tensor view(const Tensor& x, const Shape& shape);
/// Dims start_dim to end_dim merged into one (a view); a 0-d x becomes 1-D.
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);

/// A new dim of size 1 at dim (-1 appends).
Tensor unsqueeze(const Tensor& x, std::int64_t dim);

/// Every dim of size 1 removed; or dim only, if its size is 1 (else x unchanged, as torch).
Tensor squeeze(const Tensor& x);
/// The same, for dim only: removed if its size is 1, else x unchanged.
Tensor squeeze(const Tensor& x, std::int64_t dim);

/// x broadcast to shape (a copy): sizes of 1 stretch, -1 keeps x's size, new dims lead. The
/// gradient sums back over the copies.
Tensor expand(const Tensor& x, const Shape& shape);
/// The same as expand, as torch's broadcast_to.
Tensor broadcast_to(const Tensor& x, const Shape& shape);

/// x tiled repeats[d] times along each dim (repeats may add leading dims), as torch's repeat.
Tensor repeat(const Tensor& x, const std::vector<std::int64_t>& repeats);

/// Pieces of split_size along dim (the last may be smaller), or of the given sizes (which must
/// sum to the dim's size); each a copy with its own gradient path.
std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim = 0);
/// The same, in pieces of the given sizes (which must sum to the dim's size).
std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes,
                          std::int64_t dim = 0);

/// `chunks` pieces of ceil(n / chunks) along dim, as torch's chunk (fewer if n runs out).
std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim = 0);

/// The slice [start, start + length) of dim (a copy).
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);

/// Python's x[start:end:step] along dim (a copy).
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);

/// Entries of x at the int64 indices along dim (rows of a batch for dim 0).
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);

}  // namespace tapegrad
