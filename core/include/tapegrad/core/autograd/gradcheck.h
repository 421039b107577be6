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

/// How gradcheck perturbs the inputs and when an element passes.
struct GradcheckOptions {
  double eps = 1e-6;          ///< central-difference step
  double atol = 1e-6;         ///< passes when |analytic - numeric| <= atol + rtol |numeric|
  double rtol = 1e-4;         ///< relative tolerance (see atol)
  std::uint64_t seed = 1234;  ///< seeds the fixed random weights R in loss = sum(f(x) * R)
};

/// The worst element found, and whether every element passed.
struct GradcheckResult {
  bool ok = true;            ///< true when every element checked passed
  std::size_t input = 0;     ///< which input held the worst element
  std::int64_t element = 0;  ///< its flat (row-major) index
  /// The worst element's gradient as backward() computed it.
  double analytic = 0, numeric = 0;  ///< the same element's, by central differences
  double error = 0;  ///< |analytic - numeric| / (atol + rtol |numeric|); ok when <= 1
  /// Largest |analytic - numeric| / (1 + |numeric|) over all elements: relative for large
  /// gradients, absolute for small ones.
  double max_mixed_error = 0;
  std::string message;  ///< human-readable summary
  /// True when the check passed (ok), so a result can be tested directly.
  explicit operator bool() const { return ok; }
};
/// Writes r.message.
std::ostream& operator<<(std::ostream& os, const GradcheckResult& r);

/// Compares backward() of loss = sum(fn() * R) with central differences over every element of
/// every input that requires grad (inputs must be leaves). Use float64 inputs for tight checks.
GradcheckResult gradcheck(const std::function<Tensor()>& fn, const std::vector<Tensor>& inputs,
                          GradcheckOptions opts = {});

/// Second derivatives (torch.autograd.gradgradcheck): gradcheck of the first-order gradients
/// grad(fn(), inputs, v, create_graph) as functions of the inputs and of v, fixed random
/// grad_outputs (drawn from opts.seed), against central differences of those gradients. The
/// result's input index counts the inputs, then v last. Use float64 inputs.
GradcheckResult gradgradcheck(const std::function<Tensor()>& fn, const std::vector<Tensor>& inputs,
                              GradcheckOptions opts = {});

}  // namespace tapegrad
