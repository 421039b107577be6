// Row-major layout arithmetic shared by the ops that walk a tensor along one dim.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/dtype.h"

namespace tapegrad {

/// Row-major strides (in elements) of a shape.
inline std::vector<std::int64_t> row_major_strides(const Shape& s) {
  std::vector<std::int64_t> st(s.size(), 1);
  for (std::size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}

/// Sizes before, along and after dim: a tensor seen as (outer, n, inner).
struct Split3 {
  std::int64_t outer = 1, n = 1, inner = 1;
};
inline Split3 split_at(const Shape& s, std::int64_t dim) {
  Split3 r;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(s.size()); ++i)
    (i < dim ? r.outer : i == dim ? r.n : r.inner) *= s[i];
  return r;
}

}  // namespace tapegrad
