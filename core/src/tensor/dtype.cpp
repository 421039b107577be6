// Names and sizes of dtypes, and shape arithmetic.
#include "tapegrad/core/dtype.h"

#include <string>

#include "tensor/check.h"

namespace tapegrad {

const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Int64: return "int64";
  }
  return "?";
}

std::size_t dtype_size(Dtype d) { return d == Dtype::Float32 ? 4 : 8; }

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::int64_t shape_numel(const Shape& s) {
  std::int64_t n = 1;
  // Every shape a tensor is made or viewed with passes through here: a product that wrapped
  // would make a tiny allocation that later reads walk past.
  for (std::int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n))
      throw ShapeError(msg("shape ", shape_str(s), " has more than 2^63 - 1 elements"));
  return n;
}

}  // namespace tapegrad
