// Checked arithmetic for values from outside (checked.h).
#include "tapegrad/core/checked.h"

#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad {

std::int64_t checked_int64(double v, std::string_view what) {
  // 2^63 is exact in a double; the comparisons are false for NaN.
  constexpr double kLimit = 9223372036854775808.0;
  if (std::isnan(v) || v != std::trunc(v))
    throw ValueError(msg(what, ": ", v, " is not an integer"));
  if (!(v >= -kLimit && v < kLimit))
    throw ValueError(msg(what, ": ", v, " is outside int64's range"));
  return static_cast<std::int64_t>(v);
}

std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    throw ValueError(msg(what, ": ", a, " x ", b, " overflows int64"));
  return r;
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t r;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r))
    throw ValueError(msg(what, ": ", a, " + ", b, " overflows int64"));
  return r;
}

}  // namespace tapegrad
