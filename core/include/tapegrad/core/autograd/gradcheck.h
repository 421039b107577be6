// Finite-difference gradient checks: the test every differentiable op passes, public so users
// can check their own functions the same way.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

struct GradcheckOptions {
  double eps = 1e-6;   ///< central-difference step
  double atol = 1e-6;  ///< passes when |analytic - numeric| <= atol + rtol |numeric|
  double rtol = 1e-4;
  std::uint64_t seed = 1234;  ///< seeds the fixed random weights R in loss = sum(f(x) * R)
};

/// The worst element found, and whether every element passed.
struct GradcheckResult {
  bool ok = true;
  std::size_t input = 0;     ///< which input held the worst element
  std::int64_t element = 0;  ///< its flat (row-major) index
  double analytic = 0, numeric = 0;
  double error = 0;  ///< |analytic - numeric| / (atol + rtol |numeric|); ok when <= 1
  /// Largest |analytic - numeric| / (1 + |numeric|) over all elements: relative for large
  /// gradients, absolute for small ones.
  double max_mixed_error = 0;
  std::string message;  ///< human-readable summary
  explicit operator bool() const { return ok; }
};
std::ostream& operator<<(std::ostream& os, const GradcheckResult& r);

/// Compares backward() of loss = sum(fn() * R) with central differences over every element of
/// every input that requires grad (inputs must be leaves). Use float64 inputs for tight checks.
GradcheckResult gradcheck(const std::function<Tensor()>& fn, const std::vector<Tensor>& inputs,
                          GradcheckOptions opts = {});

}  // namespace tapegrad
