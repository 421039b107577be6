// gradcheck: backward() against central differences, element by element, on
// loss = sum(f(x) * R) with fixed random R (a plain sum would hide errors that cancel).
#include "tapegrad/core/autograd/gradcheck.h"

#include <cmath>
#include <ostream>

#include "kernels/dispatch.h"
#include "tapegrad/core/autograd.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/core/random.h"

namespace tapegrad {

std::ostream& operator<<(std::ostream& os, const GradcheckResult& r) { return os << r.message; }

namespace {
double get(const TensorImpl& t, std::int64_t i) {
  return dispatch_float(t.dtype, "gradcheck", [&]<typename T>() { return double(t.data<T>()[i]); });
}
void put(TensorImpl& t, std::int64_t i, double v) {
  dispatch_float(t.dtype, "gradcheck", [&]<typename T>() { t.data<T>()[i] = static_cast<T>(v); });
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor()>& fn, const std::vector<Tensor>& inputs,
                          GradcheckOptions opts) {
  bool any = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorImpl& x = impl_of(inputs[i], "gradcheck");
    if (x.node) throw ValueError(msg("gradcheck: input ", i, " is not a leaf"));
    any = any || x.requires_grad;
  }
  if (!any) throw ValueError("gradcheck: no input requires grad");

  Generator gen(opts.seed);
  Tensor weights;
  {
    NoGradGuard no_grad;
    Tensor y = fn();
    weights = randn(y.shape(), {.dtype = y.dtype()}, &gen);
  }
  auto loss_at = [&] {
    NoGradGuard no_grad;
    return sum(fn() * weights).item();
  };

  // Analytic gradients, computed on fresh buffers so the caller's .grad is left as it was.
  std::vector<ImplPtr> saved;
  for (const Tensor& x : inputs) saved.push_back(std::exchange(impl_ptr(x)->grad, nullptr));
  std::vector<std::vector<double>> analytic(inputs.size());
  try {
    sum(fn() * weights).backward();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const TensorImpl& x = *impl_ptr(inputs[i]);
      analytic[i] = x.grad ? Tensor(x.grad).to_vector<double>()
                           : std::vector<double>(static_cast<std::size_t>(x.numel), 0.0);
    }
  } catch (...) {
    for (std::size_t i = 0; i < inputs.size(); ++i) impl_ptr(inputs[i])->grad = saved[i];
    throw;
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) impl_ptr(inputs[i])->grad = saved[i];

  GradcheckResult worst;
  worst.error = -1;
  double mixed = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    TensorImpl& x = *impl_ptr(inputs[i]);
    if (!x.requires_grad) continue;
    for (std::int64_t e = 0; e < x.numel; ++e) {
      const double orig = get(x, e);
      put(x, e, orig + opts.eps);
      const double up = loss_at();
      put(x, e, orig - opts.eps);
      const double down = loss_at();
      put(x, e, orig);
      const double numeric = (up - down) / (2 * opts.eps);
      const double a = analytic[i][e];
      const double err = std::abs(a - numeric) / (opts.atol + opts.rtol * std::abs(numeric));
      mixed = std::max(mixed, std::abs(a - numeric) / (1 + std::abs(numeric)));
      if (!(err <= worst.error)) {  // also catches NaN
        worst.error = err;
        worst.input = i;
        worst.element = e;
        worst.analytic = a;
        worst.numeric = numeric;
      }
    }
  }
  worst.ok = worst.error <= 1;
  worst.max_mixed_error = mixed;
  worst.message = msg("gradcheck ", worst.ok ? "passed" : "FAILED", ": worst element is input ",
                      worst.input, " element ", worst.element, ": analytic ", worst.analytic,
                      " vs numeric ", worst.numeric, " (error ", worst.error,
                      " of the allowed atol + rtol |numeric|); max |a - n| / (1 + |n|) = ", mixed);
  return worst;
}

GradcheckResult gradgradcheck(const std::function<Tensor()>& fn, const std::vector<Tensor>& inputs,
                              GradcheckOptions opts) {
  std::vector<Tensor> wrt;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorImpl& x = impl_of(inputs[i], "gradgradcheck");
    if (x.node) throw ValueError(msg("gradgradcheck: input ", i, " is not a leaf"));
    if (x.requires_grad) wrt.push_back(inputs[i]);
  }
  if (wrt.empty()) throw ValueError("gradgradcheck: no input requires grad");
  Generator gen(opts.seed + 1);
  Tensor v;
  {
    NoGradGuard no_grad;
    const Tensor y = fn();
    v = randn(y.shape(), {.dtype = y.dtype()}, &gen).requires_grad_(true);
  }
  // The first-order gradients, flattened into one tensor; gradcheck evaluates it with recording
  // off, but the gradients must be taken, so this turns it on for the call.
  auto first_order = [&] {
    const bool was = is_grad_enabled();
    set_grad_enabled(true);
    struct Restore {
      bool on;
      ~Restore() { set_grad_enabled(on); }
    } const restore{was};
    const std::vector<Tensor> gs =
        grad({fn()}, wrt, {v}, {.create_graph = true, .allow_unused = true});
    std::vector<Tensor> flat;
    for (std::size_t k = 0; k < gs.size(); ++k)
      flat.push_back(gs[k].defined() ? reshape(gs[k], {gs[k].numel()})
                                     : zeros({wrt[k].numel()}, {.dtype = wrt[k].dtype()}));
    return cat(flat, 0);
  };
  std::vector<Tensor> all = inputs;
  all.push_back(v);
  GradcheckResult r = gradcheck(first_order, all, opts);
  r.message = "grad" + r.message;
  return r;
}

}  // namespace tapegrad
