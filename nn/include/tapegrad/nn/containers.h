// Containers: ModuleList holds modules for a custom forward; Sequential is a ModuleList that
// applies them in order.
#pragma once
#include <memory>
#include <string>
#include <type_traits>

#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// Holds modules, named "0", "1", ... (like torch.nn.ModuleList); has no forward of its own.
class ModuleList : public Module {
 public:
  ModuleList() = default;
  /// Appends a module (moved in) or a shared one (std::shared_ptr, shared, not copied).
  template <typename M>
  void push_back(M&& module) {
    if constexpr (requires { typename std::decay_t<M>::element_type; })
      append(std::shared_ptr<Module>(std::forward<M>(module)));
    else
      append(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  /// Appends a shared module, registered under the next index ("0", "1", ...).
  void append(std::shared_ptr<Module> module);
  /// Throws StateError: a ModuleList is iterated by its owner, not called.
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "ModuleList"; }
  /// Number of modules held.
  std::size_t size() const { return modules_.size(); }
  /// The i-th module; throws ValueError past the end.
  Module& operator[](std::size_t i) const;
  /// The i-th module's shared handle; throws ValueError past the end.
  std::shared_ptr<Module> ptr(std::size_t i) const;

 protected:
  /// The modules, in order (each also registered as a child).
  std::vector<std::shared_ptr<Module>> modules_;
};

/// Applies its modules in order: y = m_n(...m_1(x)).
class Sequential : public ModuleList {
 public:
  Sequential() = default;
  /// Sequential(Linear(784, 128), Sigmoid(), Linear(128, 10)).
  template <typename... Ms>
  requires(sizeof...(Ms) > 0) explicit Sequential(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sequential"; }
};

}  // namespace tapegrad::nn
