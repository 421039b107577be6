// Argument checks used at every op boundary; each throws with the op's name and the values.
#pragma once
#include <cstdint>
#include <string>

#include "tapegrad/core/checked.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tensor/tensor_impl.h"

namespace tapegrad {

/// Wraps a negative dim and throws ValueError if it is out of range for rank.
std::int64_t normalize_dim(const char* op, std::int64_t dim, std::int64_t rank);
/// Throws ValueError unless t is float32 or float64.
void check_floating(const char* op, const TensorImpl& t);
/// Throws ValueError unless t is int64 (indices, labels).
void check_index_dtype(const char* op, const char* name, const TensorImpl& t);
/// Throws ValueError unless every element of the int64 tensor index is in [0, n), naming the
/// first that is not: "op: index v at position k is out of range for <range>".
void check_index_range(const char* op, const TensorImpl& index, std::int64_t n,
                       const std::string& range);
/// Throws ShapeError unless t has the given rank.
void check_rank(const char* op, const char* name, const TensorImpl& t, std::int64_t rank);

}  // namespace tapegrad
