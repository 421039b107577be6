// Sequential and ModuleList.
#include "tapegrad/nn/containers.h"

#include "check.h"

namespace tapegrad::nn {

namespace {
Module& at(const std::vector<std::shared_ptr<Module>>& ms, std::size_t i, const char* who) {
  if (i >= ms.size())
    throw ValueError(msg(who, ": index ", i, " is out of range for ", ms.size(), " modules"));
  return *ms[i];
}
}  // namespace

void Sequential::append(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : modules_) h = m->forward(h);
  return h;
}

Module& Sequential::operator[](std::size_t i) const { return at(modules_, i, "Sequential"); }
std::shared_ptr<Module> Sequential::ptr(std::size_t i) const {
  at(modules_, i, "Sequential");
  return modules_[i];
}

void ModuleList::append(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

Tensor ModuleList::forward(const Tensor&) {
  throw StateError("ModuleList: has no forward; iterate over its modules in your own forward");
}

Module& ModuleList::operator[](std::size_t i) const { return at(modules_, i, "ModuleList"); }
std::shared_ptr<Module> ModuleList::ptr(std::size_t i) const {
  at(modules_, i, "ModuleList");
  return modules_[i];
}

}  // namespace tapegrad::nn
