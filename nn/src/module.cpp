// Module's walks over parameters and children, the train/eval switch, dtype conversion and
// the PyTorch-style print.
#include "tapegrad/nn/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <ostream>
#include <typeinfo>

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::nn {

std::string Module::name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string r = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  if (auto p = r.rfind("::"); p != std::string::npos) r = r.substr(p + 2);
  return r;
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  if (name.empty() || name.find('.') != std::string::npos)
    throw ValueError(msg("register_parameter: bad name '", name, "' (non-empty, no dots)"));
  for (const auto& [n, p] : params_)
    if (n == name) throw ValueError(msg("register_parameter: '", name, "' is already registered"));
  if (!t.defined()) throw ValueError(msg("register_parameter: '", name, "' is undefined"));
  if (!t.is_leaf()) t = t.detach();
  t.requires_grad_(requires_grad);
  params_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  if (name.empty() || name.find('.') != std::string::npos)
    throw ValueError(msg("register_module: bad name '", name, "' (non-empty, no dots)"));
  if (!child) throw ValueError(msg("register_module: '", name, "' is null"));
  for (const auto& [n, c] : children_)
    if (n == name) throw ValueError(msg("register_module: '", name, "' is already registered"));
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [n, p] : params_) out.emplace_back(prefix + n, p);
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, p] : named_parameters()) out.push_back(p);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [n, c] : children_) out.push_back(c);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::int64_t Module::num_parameters() const {
  std::int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

Module& Module::to(Dtype dtype) {
  if (!is_floating(dtype))
    throw ValueError(msg("Module::to: parameters must be floating-point, not ", dtype_name(dtype)));
  NoGradGuard no_grad;
  // The TensorImpl is changed in place, so every handle to a parameter (the layer's member and
  // this registry) sees the new dtype.
  for (Tensor& p : parameters())
    if (p.dtype() != dtype) p.set_data(p.to(dtype));
  return *this;
}

void Module::print(std::ostream& os, int indent) const {
  os << name() << '(' << extra_repr();
  if (!children_.empty()) {
    os << '\n';
    for (const auto& [n, c] : children_) {
      os << std::string(indent + 2, ' ') << '(' << n << "): ";
      c->print(os, indent + 2);
      os << '\n';
    }
    os << std::string(indent, ' ');
  }
  os << ')';
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  m.print(os, 0);
  return os;
}

}  // namespace tapegrad::nn
