// Checked arithmetic for values that come from outside (files, user arguments): a double
// becomes an integer only when it is one, and a size product only when it fits.
#pragma once
#include <cstdint>
#include <string_view>

namespace tapegrad {

/// v as int64 when it is finite, integral and within [-2^63, 2^63); otherwise throws
/// ValueError "<what>: <v> is not an integer" or "... is outside int64's range" (what names
/// the source: the file and entry, or the op and argument).
std::int64_t checked_int64(double v, std::string_view what);

/// a * b for sizes >= 0; throws ValueError "<what>: a x b overflows int64" when it does not fit.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what);
/// a + b for sizes >= 0; throws ValueError "<what>: a + b overflows int64" when it does not fit.
std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what);

}  // namespace tapegrad
