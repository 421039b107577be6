// Dims: the dims a reduction runs over, as torch's int-or-tuple dim argument.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace tapegrad {

/// The dims a reduction runs over: one (amax(x, 1)), several (amax(x, {0, 2})), or none given
/// ({}), which means every dim, as torch's dim=None. Negative dims count from the end.
struct Dims {
  std::vector<std::int64_t> dims;  ///< the dims (empty: every dim)
  Dims() = default;
  /// One dim.
  Dims(std::int64_t d) : dims{d} {}  // NOLINT: implicit, as torch's int-or-tuple dim
  /// Several dims, e.g. {0, 2}.
  Dims(std::initializer_list<std::int64_t> ds) : dims(ds) {}
  /// Several dims, from a vector.
  Dims(std::vector<std::int64_t> ds) : dims(std::move(ds)) {}  // NOLINT
};

}  // namespace tapegrad
