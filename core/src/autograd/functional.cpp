// torch.autograd.functional's derivatives of whole functions, each a few grad() calls: the
// inputs are handed to the function as fresh leaves (or, with create_graph, as recorded views
// of inputs that require grad, so the results stay differentiable with respect to them), and
// an input the output does not depend on gets zeros, or an error under strict.
#include "tapegrad/core/autograd/functional.h"

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"

namespace tapegrad::autograd {
namespace {

std::vector<Tensor> prepare(const char* op, const std::vector<Tensor>& xs, bool create_graph) {
  if (xs.empty()) throw ValueError(msg(op, ": no inputs given"));
  std::vector<Tensor> in;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined()) throw ValueError(msg(op, ": input ", i, " is undefined"));
    if (!is_floating(xs[i].dtype()))
      throw ValueError(msg(op, ": input ", i, " is ", dtype_name(xs[i].dtype()),
                           "; derivatives need a floating-point tensor"));
    in.push_back(create_graph && xs[i].requires_grad() ? view(xs[i], xs[i].shape())
                                                       : xs[i].detach().requires_grad_(true));
  }
  return in;
}

Tensor call(const char* op, const FunctionN& f, const std::vector<Tensor>& in) {
  if (!f) throw ValueError(msg(op, ": the function is empty"));
  Tensor y = f(in);
  if (!y.defined()) throw ValueError(msg(op, ": the function returned an undefined tensor"));
  if (!is_floating(y.dtype()))
    throw ValueError(msg(op, ": the function returned a ", dtype_name(y.dtype()),
                         " tensor; derivatives need a floating-point one"));
  return y;
}

void check_scalar(const char* op, const Tensor& y) {
  if (y.numel() != 1)
    throw ValueError(
        msg(op, ": the function must return one element, it returned ", shape_str(y.shape())));
}

/// vs checked against the inputs' shapes; none: ones, when every input has one element.
std::vector<Tensor> directions(const char* op, const std::vector<Tensor>& vs,
                               const std::vector<Tensor>& xs) {
  if (vs.empty()) {
    std::vector<Tensor> ones_each;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (xs[i].numel() != 1)
        throw ValueError(msg(op,
                             ": v may be left out only when every input has one element; "
                             "input ",
                             i, " is ", shape_str(xs[i].shape())));
      ones_each.push_back(ones(xs[i].shape(), {.dtype = xs[i].dtype()}));
    }
    return ones_each;
  }
  if (vs.size() != xs.size())
    throw ValueError(msg(op, ": ", vs.size(), " vectors v for ", xs.size(), " inputs"));
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (!vs[i].defined() || vs[i].shape() != xs[i].shape() || vs[i].dtype() != xs[i].dtype())
      throw ValueError(msg(op, ": v ", i, " must be ", shape_str(xs[i].shape()), " ",
                           dtype_name(xs[i].dtype()), " like its input, got ",
                           vs[i].defined() ? shape_str(vs[i].shape()) : "undefined"));
  return vs;
}

/// grad() of outputs (weighted by grad_outputs) with respect to wrt, allowing unused inputs:
/// nothing reachable (no output that requires grad) gives all undefined.
std::vector<Tensor> grads_or_none(const std::vector<Tensor>& outputs,
                                  const std::vector<Tensor>& wrt,
                                  const std::vector<Tensor>& grad_outputs, bool create_graph) {
  std::vector<Tensor> outs, gos;
  for (std::size_t k = 0; k < outputs.size(); ++k)
    if (outputs[k].defined() && outputs[k].requires_grad()) {
      outs.push_back(outputs[k]);
      if (!grad_outputs.empty()) gos.push_back(grad_outputs[k]);
    }
  if (outs.empty()) return std::vector<Tensor>(wrt.size());
  return grad(outs, wrt, gos,
              {.retain_graph = true, .create_graph = create_graph, .allow_unused = true});
}

/// Undefined entries become zeros like `like` (or, under strict, an error saying what does not
/// depend on which input); the rest are detached unless create_graph.
std::vector<Tensor> fill(const char* op, std::vector<Tensor> gs, const std::vector<Tensor>& like,
                         const FunctionalOptions& o, const char* independent) {
  for (std::size_t i = 0; i < gs.size(); ++i) {
    if (!gs[i].defined()) {
      if (o.strict)
        throw ValueError(
            msg(op, ": ", independent, " input ", i, " (strict mode does not allow it)"));
      gs[i] = zeros(like[i].shape(), {.dtype = like[i].dtype()});
    } else if (!o.create_graph) {
      gs[i] = gs[i].detach();
    }
  }
  return gs;
}

/// dy/dx_i for each input, with graphs (what vhp, hvp and hessian differentiate again); zeros
/// for an input y does not depend on, or an error under strict.
std::vector<Tensor> first_derivatives(const char* op, const Tensor& y,
                                      const std::vector<Tensor>& in, const FunctionalOptions& o) {
  return fill(op, grads_or_none({y}, in, {}, true), in, {.create_graph = true, .strict = o.strict},
              "the output does not depend on");
}

Tensor result(const Tensor& y, const FunctionalOptions& o) {
  return o.create_graph ? y : y.detach();
}

FunctionN lift(const Function1& f) {
  if (!f) return nullptr;
  return [f](const std::vector<Tensor>& xs) { return f(xs[0]); };
}

/// One-hot in like's shape and dtype, at flat index k.
Tensor basis(const Tensor& like, std::int64_t k) {
  std::vector<double> e(static_cast<std::size_t>(like.numel()), 0.0);
  e[static_cast<std::size_t>(k)] = 1;
  return reshape(from_vector(e, {like.numel()}, {.dtype = like.dtype()}), like.shape());
}

}  // namespace

std::pair<Tensor, std::vector<Tensor>> vjp(const FunctionN& f, const std::vector<Tensor>& xs,
                                           const Tensor& v, FunctionalOptions o) {
  const std::vector<Tensor> in = prepare("vjp", xs, o.create_graph);
  const Tensor y = call("vjp", f, in);
  Tensor seed = v;
  if (!v.defined()) {
    if (y.numel() != 1)
      throw ValueError(
          msg("vjp: v may be left out only when the function returns one element; "
              "it returned ",
              shape_str(y.shape())));
    seed = ones(y.shape(), {.dtype = y.dtype()});
  } else if (v.shape() != y.shape() || v.dtype() != y.dtype()) {
    throw ValueError(msg("vjp: v is ", shape_str(v.shape()), " ", dtype_name(v.dtype()),
                         ", the function's output ", shape_str(y.shape()), " ",
                         dtype_name(y.dtype())));
  }
  return {result(y, o), fill("vjp", grads_or_none({y}, in, {seed}, o.create_graph), in, o,
                             "the output does not depend on")};
}

std::pair<Tensor, std::vector<Tensor>> vhp(const FunctionN& f, const std::vector<Tensor>& xs,
                                           const std::vector<Tensor>& vs, FunctionalOptions o) {
  const std::vector<Tensor> in = prepare("vhp", xs, o.create_graph);
  const std::vector<Tensor> v = directions("vhp", vs, xs);
  const Tensor y = call("vhp", f, in);
  check_scalar("vhp", y);
  const std::vector<Tensor> jac = first_derivatives("vhp", y, in, o);
  return {result(y, o), fill("vhp", grads_or_none(jac, in, v, o.create_graph), in, o,
                             "the output's Jacobian does not depend on")};
}

std::pair<Tensor, std::vector<Tensor>> hvp(const FunctionN& f, const std::vector<Tensor>& xs,
                                           const std::vector<Tensor>& vs, FunctionalOptions o) {
  // torch's form: H v as the derivative, with respect to dummy weights u, of u^T H, which is
  // exact for any H (vhp gives v^T H).
  const std::vector<Tensor> in = prepare("hvp", xs, o.create_graph);
  const std::vector<Tensor> v = directions("hvp", vs, xs);
  const Tensor y = call("hvp", f, in);
  check_scalar("hvp", y);
  const std::vector<Tensor> jac = first_derivatives("hvp", y, in, o);
  std::vector<Tensor> u;
  for (const Tensor& x : in) u.push_back(zeros(x.shape(), {.dtype = x.dtype()}).requires_grad_());
  const std::vector<Tensor> back = grads_or_none(jac, in, u, true);
  return {result(y, o), fill("hvp", grads_or_none(back, u, v, o.create_graph), in, o,
                             "the output's Jacobian does not depend on")};
}

std::pair<Tensor, Tensor> jvp(const FunctionN& f, const std::vector<Tensor>& xs,
                              const std::vector<Tensor>& vs, FunctionalOptions o) {
  // The double-vjp trick: g(u) = u^T J is linear in u, and its derivative along v is J v.
  const std::vector<Tensor> in = prepare("jvp", xs, o.create_graph);
  const std::vector<Tensor> v = directions("jvp", vs, xs);
  const Tensor y = call("jvp", f, in);
  const Tensor u = zeros(y.shape(), {.dtype = y.dtype()}).requires_grad_();
  const std::vector<Tensor> g = grads_or_none({y}, in, {u}, true);
  if (o.strict)
    for (std::size_t i = 0; i < g.size(); ++i)
      if (!g[i].defined())
        throw ValueError(msg("jvp: the output does not depend on input ", i,
                             " (strict mode does not allow it)"));
  const std::vector<Tensor> jv = grads_or_none(g, {u}, v, o.create_graph);
  // Strictness was checked above: an input the output does not depend on adds nothing here.
  return {result(y, o), fill("jvp", jv, {y}, {.create_graph = o.create_graph}, "")[0]};
}

std::vector<Tensor> jacobian(const FunctionN& f, const std::vector<Tensor>& xs,
                             FunctionalOptions o) {
  const std::vector<Tensor> in = prepare("jacobian", xs, o.create_graph);
  const Tensor y = call("jacobian", f, in);
  std::vector<std::vector<Tensor>> rows(in.size());
  for (std::int64_t k = 0; k < y.numel(); ++k) {
    const std::vector<Tensor> g =
        fill("jacobian", grads_or_none({y}, in, {basis(y, k)}, o.create_graph), in, o,
             "the output does not depend on");
    for (std::size_t i = 0; i < in.size(); ++i)
      rows[i].push_back(reshape(g[i], {1, in[i].numel()}));
  }
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    Shape shape = y.shape();
    for (const std::int64_t d : in[i].shape()) shape.push_back(d);
    out.push_back(rows[i].empty() ? zeros(shape, {.dtype = in[i].dtype()})
                                  : reshape(cat(rows[i], 0), shape));
  }
  return out;
}

std::vector<std::vector<Tensor>> hessian(const FunctionN& f, const std::vector<Tensor>& xs,
                                         FunctionalOptions o) {
  const std::vector<Tensor> in = prepare("hessian", xs, o.create_graph);
  const Tensor y = call("hessian", f, in);
  check_scalar("hessian", y);
  const std::vector<Tensor> jac = first_derivatives("hessian", y, in, o);
  std::vector<std::vector<Tensor>> h(in.size(), std::vector<Tensor>(in.size()));
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::vector<std::vector<Tensor>> rows(in.size());
    for (std::int64_t k = 0; k < in[i].numel(); ++k) {
      const std::vector<Tensor> g =
          fill("hessian", grads_or_none({jac[i]}, in, {basis(jac[i], k)}, o.create_graph), in, o,
               "the output's Jacobian does not depend on");
      for (std::size_t j = 0; j < in.size(); ++j)
        rows[j].push_back(reshape(g[j], {1, in[j].numel()}));
    }
    for (std::size_t j = 0; j < in.size(); ++j) {
      Shape shape = in[i].shape();
      for (const std::int64_t d : in[j].shape()) shape.push_back(d);
      h[i][j] = rows[j].empty() ? zeros(shape, {.dtype = in[j].dtype()})
                                : reshape(cat(rows[j], 0), shape);
    }
  }
  return h;
}

std::pair<Tensor, Tensor> vjp(const Function1& f, const Tensor& x, const Tensor& v,
                              FunctionalOptions o) {
  auto [y, g] = vjp(lift(f), std::vector<Tensor>{x}, v, o);
  return {y, g[0]};
}
std::pair<Tensor, Tensor> jvp(const Function1& f, const Tensor& x, const Tensor& v,
                              FunctionalOptions o) {
  return jvp(lift(f), std::vector<Tensor>{x},
             v.defined() ? std::vector<Tensor>{v} : std::vector<Tensor>{}, o);
}
std::pair<Tensor, Tensor> vhp(const Function1& f, const Tensor& x, const Tensor& v,
                              FunctionalOptions o) {
  auto [y, g] = vhp(lift(f), std::vector<Tensor>{x},
                    v.defined() ? std::vector<Tensor>{v} : std::vector<Tensor>{}, o);
  return {y, g[0]};
}
std::pair<Tensor, Tensor> hvp(const Function1& f, const Tensor& x, const Tensor& v,
                              FunctionalOptions o) {
  auto [y, g] = hvp(lift(f), std::vector<Tensor>{x},
                    v.defined() ? std::vector<Tensor>{v} : std::vector<Tensor>{}, o);
  return {y, g[0]};
}
Tensor jacobian(const Function1& f, const Tensor& x, FunctionalOptions o) {
  return jacobian(lift(f), std::vector<Tensor>{x}, o)[0];
}
Tensor hessian(const Function1& f, const Tensor& x, FunctionalOptions o) {
  return hessian(lift(f), std::vector<Tensor>{x}, o)[0][0];
}

}  // namespace tapegrad::autograd
