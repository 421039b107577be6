// Argument checks used at every op boundary; each throws with the op's name and the values.
#pragma once
#include <cstdint>
#include <string>

#include "tapegrad/core/errors.h"
#include "tensor_impl.h"

namespace tapegrad {

/// Builds "op: what" messages from pieces that stream into an ostringstream.
template <typename... Parts>
std::string msg(const Parts&... parts);

/// Wraps a negative dim and throws ValueError if it is out of range for rank.
std::int64_t normalize_dim(const char* op, std::int64_t dim, std::int64_t rank);
/// Throws ValueError unless t is float32 or float64.
void check_floating(const char* op, const TensorImpl& t);
/// Throws ValueError unless t is int64 (indices, labels).
void check_index_dtype(const char* op, const char* name, const TensorImpl& t);
/// Throws ShapeError unless t has the given rank.
void check_rank(const char* op, const char* name, const TensorImpl& t, std::int64_t rank);

}  // namespace tapegrad

#include <sstream>
namespace tapegrad {
template <typename... Parts>
std::string msg(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace tapegrad
