// Module: the base of every layer and model. Holds named parameters, named buffers (state that
// is not trained: BatchNorm's running statistics) and named submodules, the train/eval switch,
// the walks over them (parameters, named_parameters, buffers, zero_grad, to) and the state
// dict, which names everything as torch's does.
#pragma once
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/core/dtype.h"
#include "tapegrad/core/io/tensor_dict.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::nn {

/// Named tensors in a module's order (torch's state_dict: an ordered name -> tensor map); the
/// type io::load_torch, io::load_safetensors and io::load_npz return.
using StateDict = io::TensorDict;

/// What a non-strict load_state_dict left out (torch's _IncompatibleKeys).
struct LoadStateResult {
  std::vector<std::string> missing_keys;     ///< the module's entries the dict did not have
  std::vector<std::string> unexpected_keys;  ///< the dict's entries the module does not have
};

/// The base of every layer and model (torch.nn.Module): named parameters, buffers and
/// submodules, which a derived class registers in its constructor, and its forward().
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  // Modules are reference-like (parameters are shared handles), so copying is not offered:
  // share a module through std::shared_ptr instead. Moving is fine.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  /// Moves the parameters, buffers and submodules (the handles, not the values).
  Module(Module&&) = default;
  /// The same, by assignment.
  Module& operator=(Module&&) = default;

  /// The computation; a module's own math lives in core ops.
  virtual Tensor forward(const Tensor& x) = 0;
  /// forward(x): a module is called like a function.
  Tensor operator()(const Tensor& x) { return forward(x); }

  /// Type name shown when printing ("Linear"); defaults to the C++ class name.
  virtual std::string name() const;
  /// What goes between the parentheses when printing ("in_features=3, out_features=2").
  virtual std::string extra_repr() const { return ""; }

  /// Every parameter, own first, then each child's in registration order.
  std::vector<Tensor> parameters() const;
  /// Same order, with hierarchical names: "weight", "0.weight", "encoder.fc1.bias".
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  /// Direct submodules in registration order.
  std::vector<std::shared_ptr<Module>> children() const;
  /// Direct submodules with their names, in registration order.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  /// Number of scalar parameters (what PyTorch users sum over p.numel()).
  std::int64_t num_parameters() const;
  /// Every buffer, in the order of named_parameters (own first, then each child's).
  std::vector<Tensor> buffers() const;
  /// Every buffer with its hierarchical name ("bn1.running_mean"), in the order of buffers().
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;

  /// Parameters and persistent buffers by name, module by module (own parameters, own
  /// buffers, then each child's), as torch orders them: "0.weight", "bn1.running_mean". The
  /// tensors share storage with the module (detached: torch's state_dict values).
  StateDict state_dict() const;
  /// Copies a state dict into the module. Every entry's shape and dtype must match and no name
  /// may repeat; with strict, no entry may be missing or unexpected either. Everything is
  /// checked before anything changes: an error (ValueError naming the entry) leaves the module
  /// as it was. Returns what a non-strict load left out.
  LoadStateResult load_state_dict(const StateDict& state, bool strict = true);

  /// Training mode (the default) or evaluation mode, for this module and all below it.
  void train(bool on = true);
  /// Evaluation mode, for this module and all below it: train(false).
  void eval() { train(false); }
  /// True in training mode (the default), false after eval().
  bool is_training() const { return training_; }

  /// Zeroes every parameter's gradient in place.
  void zero_grad();
  /// Converts every parameter and floating-point buffer to dtype in place (e.g. kFloat64 for
  /// gradient checks); integer buffers (counters) stay as they are, as in torch.
  Module& to(Dtype dtype);

  /// Writes the parameters and persistent buffers to a checkpoint file; see nn/serialize.h.
  void save(const std::string& path) const;
  /// Reads them back; checks everything before changing anything.
  void load(const std::string& path);

 protected:
  /// Registers t (made a leaf that requires grad) under name; returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  /// Registers t as a buffer: state saved with the module and converted by to(), never
  /// trained. persistent = false keeps it out of the state dict and checkpoints (torch's).
  /// Returns the same handle (update it in place, under NoGradGuard).
  Tensor register_buffer(const std::string& name, Tensor t, bool persistent = true);
  /// Takes ownership of a submodule under name; returns a handle to keep as a member.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, M&& module) {
    return register_module(name, std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }
  template <typename M>
  /// The same for a module already shared: registers module itself, not a copy, and returns it.
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  struct Buffer {
    std::string name;
    Tensor t;
    bool persistent;
  };
  void check_new_name(const char* what, const std::string& name) const;
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_buffers(const std::string& prefix, bool persistent_only,
                       std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_state(const std::string& prefix, StateDict& out) const;
  void print(std::ostream& os, int indent) const;
  friend std::ostream& operator<<(std::ostream& os, const Module& m);

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<Buffer> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

/// PyTorch-style print: one line per leaf module, children indented under their container.
std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace tapegrad::nn
