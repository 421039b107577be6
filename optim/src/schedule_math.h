// What the schedule implementations share: a value per parameter group, and Python's modulo.
#pragma once
#include <cstdint>
#include <vector>

namespace tapegrad::optim {

template <typename F>
std::vector<double> per_group(std::size_t n, F f) {
  std::vector<double> r(n);
  for (std::size_t g = 0; g < n; ++g) r[g] = f(g);
  return r;
}

/// Python's % (the result takes the divisor's sign), which PyTorch's formulas rely on.
inline std::int64_t py_mod(std::int64_t a, std::int64_t m) { return ((a % m) + m) % m; }

}  // namespace tapegrad::optim
