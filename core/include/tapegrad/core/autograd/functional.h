// Derivatives of whole functions (torch.autograd.functional): vector-Jacobian and
// Jacobian-vector products, Hessian-vector products, and full Jacobians and Hessians, for a
// function of one tensor or of several. Built on grad() with create_graph, so every op the
// function uses needs a second derivative where one is taken (jvp, hvp, vhp, hessian).
#pragma once
#include <functional>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::autograd {

/// The functional API's keywords, as torch's.
struct FunctionalOptions {
  /// Record the computation, so that the results can be differentiated again (with respect to
  /// the inputs, when they require grad). Off: the results are detached.
  bool create_graph = false;
  /// An output that does not depend on an input is an error naming the input; off: its
  /// derivatives are zeros.
  bool strict = false;
};

/// A function of one tensor.
using Function1 = std::function<Tensor(const Tensor&)>;
/// A function of several tensors.
using FunctionN = std::function<Tensor(const std::vector<Tensor>&)>;

/// f(x) and v^T J, J = df/dx at x. v has f(x)'s shape; undefined: f(x) must have one element.
std::pair<Tensor, Tensor> vjp(const Function1& f, const Tensor& x, const Tensor& v = Tensor(),
                              FunctionalOptions options = {});
/// f(xs) and v^T J_i for each input.
std::pair<Tensor, std::vector<Tensor>> vjp(const FunctionN& f, const std::vector<Tensor>& xs,
                                           const Tensor& v = Tensor(),
                                           FunctionalOptions options = {});

/// f(x) and J v (forward mode, by the double-vjp trick). v has x's shape; undefined: x must
/// have one element.
std::pair<Tensor, Tensor> jvp(const Function1& f, const Tensor& x, const Tensor& v = Tensor(),
                              FunctionalOptions options = {});
/// f(xs) and sum_i J_i v_i (vs: one per input, or none when every input has one element).
std::pair<Tensor, Tensor> jvp(const FunctionN& f, const std::vector<Tensor>& xs,
                              const std::vector<Tensor>& vs = {}, FunctionalOptions options = {});

/// f(x), which must have one element, and v^T H (H the Hessian of f at x).
std::pair<Tensor, Tensor> vhp(const Function1& f, const Tensor& x, const Tensor& v = Tensor(),
                              FunctionalOptions options = {});
/// f(xs) and, for each input j, sum_i v_i^T H_ij.
std::pair<Tensor, std::vector<Tensor>> vhp(const FunctionN& f, const std::vector<Tensor>& xs,
                                           const std::vector<Tensor>& vs = {},
                                           FunctionalOptions options = {});

/// f(x), which must have one element, and H v (by the double-backward trick, as torch).
std::pair<Tensor, Tensor> hvp(const Function1& f, const Tensor& x, const Tensor& v = Tensor(),
                              FunctionalOptions options = {});
/// f(xs) and, for each input i, sum_j H_ij v_j.
std::pair<Tensor, std::vector<Tensor>> hvp(const FunctionN& f, const std::vector<Tensor>& xs,
                                           const std::vector<Tensor>& vs = {},
                                           FunctionalOptions options = {});

/// df/dx at x, of shape f(x).shape + x.shape, row by row in reverse mode (one vjp per output
/// element).
Tensor jacobian(const Function1& f, const Tensor& x, FunctionalOptions options = {});
/// df/dx_i for each input, each of shape f(xs).shape + xs[i].shape.
std::vector<Tensor> jacobian(const FunctionN& f, const std::vector<Tensor>& xs,
                             FunctionalOptions options = {});

/// The Hessian of f (one element) at x, of shape x.shape + x.shape.
Tensor hessian(const Function1& f, const Tensor& x, FunctionalOptions options = {});
/// The blocks d2f / dx_i dx_j, each of shape xs[i].shape + xs[j].shape.
std::vector<std::vector<Tensor>> hessian(const FunctionN& f, const std::vector<Tensor>& xs,
                                         FunctionalOptions options = {});

}  // namespace tapegrad::autograd
