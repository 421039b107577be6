// ModuleList and Sequential.
#include "tapegrad/nn/containers.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::nn {

void ModuleList::append(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

Tensor ModuleList::forward(const Tensor&) {
  throw StateError(msg(name(), ": has no forward; iterate over its modules in your own forward"));
}

Module& ModuleList::operator[](std::size_t i) const { return *ptr(i); }

std::shared_ptr<Module> ModuleList::ptr(std::size_t i) const {
  if (i >= modules_.size())
    throw ValueError(
        msg(name(), ": index ", i, " is out of range for ", modules_.size(), " modules"));
  return modules_[i];
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : modules_) h = m->forward(h);
  return h;
}

}  // namespace tapegrad::nn
