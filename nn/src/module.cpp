// Module's walks over parameters and children, the train/eval switch, dtype conversion and
// the PyTorch-style print.
#include "tapegrad/nn/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <map>
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

void Module::check_new_name(const char* what, const std::string& name) const {
  if (name.empty() || name.find('.') != std::string::npos)
    throw ValueError(msg(what, ": bad name '", name, "' (non-empty, no dots)"));
  const auto taken = [&](const char* kind) {
    throw ValueError(msg(what, ": '", name, "' is already registered (as a ", kind, ")"));
  };
  for (const auto& [n, p] : params_)
    if (n == name) taken("parameter");
  for (const Buffer& b : buffers_)
    if (b.name == name) taken("buffer");
  for (const auto& [n, c] : children_)
    if (n == name) taken("submodule");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name("register_parameter", name);
  if (!t.defined()) throw ValueError(msg("register_parameter: '", name, "' is undefined"));
  if (!t.is_leaf()) t = t.detach();
  t.requires_grad_(requires_grad);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t, bool persistent) {
  check_new_name("register_buffer", name);
  if (!t.defined()) throw ValueError(msg("register_buffer: '", name, "' is undefined"));
  if (t.requires_grad()) t = t.detach();  // state, not trained
  buffers_.push_back({name, t, persistent});
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name("register_module", name);
  if (!child) throw ValueError(msg("register_module: '", name, "' is null"));
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [n, p] : params_) out.emplace_back(prefix + n, p);
  for (const auto& [n, c] : children_) c->collect(prefix + n + ".", out);
}

void Module::collect_buffers(const std::string& prefix, bool persistent_only,
                             std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const Buffer& b : buffers_)
    if (b.persistent || !persistent_only) out.emplace_back(prefix + b.name, b.t);
  for (const auto& [n, c] : children_) c->collect_buffers(prefix + n + ".", persistent_only, out);
}

void Module::collect_state(const std::string& prefix, StateDict& out) const {
  for (const auto& [n, p] : params_) out.emplace_back(prefix + n, p.detach());
  for (const Buffer& b : buffers_)
    if (b.persistent) out.emplace_back(prefix + b.name, b.t.detach());
  for (const auto& [n, c] : children_) c->collect_state(prefix + n + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect_buffers("", false, out);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [n, b] : named_buffers()) out.push_back(b);
  return out;
}

StateDict Module::state_dict() const {
  StateDict out;
  collect_state("", out);
  return out;
}

LoadStateResult Module::load_state_dict(const StateDict& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    if (!given.emplace(name, &t).second)
      throw ValueError(msg("load_state_dict: entry '", name, "' appears twice"));
    if (!t.defined()) throw ValueError(msg("load_state_dict: entry '", name, "' is undefined"));
  }
  const StateDict mine = state_dict();
  LoadStateResult r;
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  for (const auto& [name, t] : mine) {
    const auto it = given.find(name);
    if (it == given.end()) {
      r.missing_keys.push_back(name);
      continue;
    }
    const Tensor& v = *it->second;
    if (v.shape() != t.shape() || v.dtype() != t.dtype())
      throw ValueError(msg("load_state_dict: '", name, "' is ", shape_str(v.shape()), " ",
                           dtype_name(v.dtype()), " in the state dict but ", shape_str(t.shape()),
                           " ", dtype_name(t.dtype()), " in the model"));
    copies.emplace_back(t, &v);
    given.erase(it);
  }
  for (const auto& [name, t] : given) r.unexpected_keys.push_back(name);
  if (strict && (!r.missing_keys.empty() || !r.unexpected_keys.empty())) {
    std::string what = msg("load_state_dict: error(s) loading the state dict for ", name(), ":");
    const auto list = [&](const char* kind, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      what += msg(" ", kind, " key(s):");
      for (std::size_t i = 0; i < keys.size(); ++i) what += msg(i ? ", '" : " '", keys[i], "'");
      what += ".";
    };
    list("missing", r.missing_keys);
    list("unexpected", r.unexpected_keys);
    throw ValueError(what);
  }
  // Everything matched: now copy. copy_ bumps each tensor's version, so a graph that saved the
  // old values cannot backward through the new ones.
  NoGradGuard no_grad;
  for (const auto& [dst, src] : copies) dst.copy_(*src);
  return r;
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
  for (Tensor& b : buffers())
    if (is_floating(b.dtype()) && b.dtype() != dtype) b.set_data(b.to(dtype));
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
