// The argument checks every op runs at its boundary (check.h).
#include "tensor/check.h"

#include <cmath>

namespace tapegrad {

std::int64_t normalize_dim(const char* op, std::int64_t dim, std::int64_t rank) {
  const std::int64_t r = std::max<std::int64_t>(rank, 1);
  if (dim < -r || dim >= r)
    throw ValueError(msg(op, ": dim out of range: got ", dim, " for a tensor of rank ", rank,
                         " (expected ", -r, " to ", r - 1, ")"));
  return dim < 0 ? dim + r : dim;
}

void check_floating(const char* op, const TensorImpl& t) {
  if (!is_floating(t.dtype))
    throw ValueError(msg(op, ": needs a floating-point tensor: got ", dtype_name(t.dtype),
                         "; convert with .to(kFloat32)"));
}

void check_index_dtype(const char* op, const char* name, const TensorImpl& t) {
  if (t.dtype != kInt64)
    throw ValueError(msg(op, ": ", name, " must be int64: got ", dtype_name(t.dtype)));
}

void check_index_range(const char* op, const TensorImpl& index, std::int64_t n,
                       const std::string& range) {
  const std::int64_t* p = index.data<std::int64_t>();
  for (std::int64_t k = 0; k < index.numel; ++k)
    if (p[k] < 0 || p[k] >= n)
      throw ValueError(
          msg(op, ": index ", p[k], " at position ", k, " is out of range for ", range));
}

void check_rank(const char* op, const char* name, const TensorImpl& t, std::int64_t rank) {
  if (static_cast<std::int64_t>(t.shape.size()) != rank)
    throw ShapeError(
        msg(op, ": ", name, " must have ", rank, " dims: got shape ", shape_str(t.shape)));
}

}  // namespace tapegrad
