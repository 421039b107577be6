// The optimizer interface. The base owns parameter groups, per-parameter state (buffers parallel
// to the parameters, named for checkpoints), zero_grad, the learning rate schedulers set, and
// state save/load; a concrete optimizer adds its options and one update rule.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::optim {

/// Named parameters, as nn::Module::named_parameters() returns them.
using NamedParams = std::vector<std::pair<std::string, Tensor>>;

/// One parameter's optimizer state: a step count and the buffers the optimizer declared
/// (allocated on the parameter's first step, as PyTorch does).
struct ParamState {
  std::int64_t step = 0;
  std::vector<Tensor> buffers;  ///< indexed like the optimizer's buffer names
  std::vector<double> scalars;  ///< indexed like the optimizer's scalar names
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Re-evaluates the model: zero the gradients, compute the loss, call backward, return it.
  using Closure = std::function<Tensor()>;

  /// One update of every parameter that has a gradient (run without recording).
  virtual void step();
  /// Runs closure with recording on, then step(); returns the closure's loss (torch's
  /// step(closure)). LBFGS evaluates it several times per step.
  virtual Tensor step(const Closure& closure);
  /// Zeroes every parameter's gradient in place.
  void zero_grad();

  std::size_t num_groups() const { return groups_.size(); }
  const std::vector<Tensor>& params(std::size_t group = 0) const;
  /// The learning rate of a group, as schedulers read and set it.
  double lr(std::size_t group = 0) const;
  void set_lr(double lr, std::size_t group);
  /// The lr a scheduler started from (set by the first scheduler attached; NaN before).
  double initial_lr(std::size_t group) const;
  void set_initial_lr(double lr, std::size_t group);
  /// Whether a group has a momentum a schedule can cycle (CyclicLR, OneCycleLR): SGD's and
  /// RMSprop's `momentum`, or beta1 of the Adam family (Adam, AdamW, Adamax, NAdam, RAdam).
  bool has_momentum(std::size_t group = 0) const;
  /// That momentum (ValueError naming the optimizer when it has none).
  double momentum(std::size_t group = 0) const;
  void set_momentum(double momentum, std::size_t group);
  /// The step count and buffers of a parameter, by flat index over all groups.
  const ParamState& state(std::size_t param_index) const { return state_.at(param_index); }
  /// Parameters over all groups.
  std::size_t num_params() const { return state_.size(); }
  /// Type name used in checkpoints and messages ("Adam").
  virtual std::string name() const = 0;

  /// Puts every group's lr, every step count and every buffer into ar under prefix, keyed by
  /// parameter name ("optim.state.0.weight.exp_avg").
  virtual void save_state(Archive& ar, const std::string& prefix = "optim.") const;
  /// Restores what save_state wrote; checks type, names, shapes and values first and changes
  /// nothing on a mismatch (ValueError naming the entry).
  virtual void load_state(const Archive& ar, const std::string& prefix = "optim.");
  /// Throws what load_state would throw for ar, changing nothing (for whole-run checkpoints).
  virtual void check_state(const Archive& ar, const std::string& prefix = "optim.") const;

 protected:
  /// buffer_names and scalar_names fix what each ParamState holds (e.g. {"exp_avg", "exp_avg_sq"}).
  Optimizer(std::vector<std::string> buffer_names, std::vector<std::string> scalar_names = {});
  /// Adds a group; names identify parameters in checkpoints and must be unique.
  void add_group(const NamedParams& params);
  /// Updates one parameter: called by step() with the group index, the parameter's state (its
  /// step count already advanced), the parameter and its gradient.
  virtual void update(std::size_t group, ParamState& state, const Tensor& param,
                      const Tensor& grad) = 0;
  virtual double& group_lr(std::size_t group) = 0;
  double group_lr(std::size_t group) const { return const_cast<Optimizer*>(this)->group_lr(group); }
  /// The group's momentum option, or null when the optimizer has none.
  virtual double* group_momentum(std::size_t /*group*/) { return nullptr; }
  /// Throws what the optimizer's validation says of the group with momentum m.
  virtual void check_momentum(std::size_t /*group*/, double /*m*/) const {}
  /// closure(), recorded whatever the caller's mode; its result must be a one-element tensor.
  Tensor evaluate(const Closure& closure) const;
  /// Buffer i of a state, created on first use filled with `init` in the parameter's shape.
  static Tensor& buffer(ParamState& s, std::size_t i, const Tensor& like, double init = 0);

 private:
  const Tensor& params_flat(std::size_t i) const;
  /// What load_state applies, read and checked.
  struct LoadedState {
    std::vector<std::pair<double, double>> lrs;  // (lr, initial_lr) per group
    std::vector<double> momenta;                 // per group; NaN: none saved, keep the current
    std::vector<ParamState> state;
  };
  LoadedState read_state(const Archive& ar, const std::string& prefix) const;
  struct Group {
    std::vector<Tensor> params;
    std::size_t first;  // flat index of params[0]: a group's parameters are contiguous
    double initial_lr;
  };
  std::vector<Group> groups_;
  std::vector<std::string> names_;  // flat, parallel to state_
  std::vector<ParamState> state_;
  std::vector<std::string> buffer_names_, scalar_names_;
};

/// The middle layer every optimizer derives from, as `class Adam : public OptimizerWith<Adam,
/// AdamOptions>`: it gives the optimizer its constructors (inherited with `using
/// OptimizerWith::OptimizerWith;`), its name and parameter groups that each carry a full
/// Options struct (with an `lr` member), so per-layer learning rates and per-group weight
/// decay work. Self supplies what is particular to it:
///   static constexpr const char* kName;              "Adam": messages and checkpoints
///   static std::vector<std::string> buffer_names();  its per-parameter tensors, in order
///   static void validate(const Options&);            throws ValueError naming the bad value
///   void update(group, state, param, grad) override; the rule
/// and, when it keeps per-parameter numbers too, static std::vector<std::string> scalar_names().
template <typename Self, typename Options>
class OptimizerWith : public Optimizer {
 public:
  explicit OptimizerWith(const std::vector<Tensor>& params, Options options = {})
      : Optimizer(Self::buffer_names(), declared_scalars()) {
    add_param_group(params, options);
  }
  explicit OptimizerWith(const NamedParams& params, Options options = {})
      : Optimizer(Self::buffer_names(), declared_scalars()) {
    add_param_group(params, options);
  }

  /// Adds a group with its own options (validated like the constructor's).
  void add_param_group(const NamedParams& params, const Options& options) {
    Self::validate(options);
    add_group(params);
    options_.push_back(options);
  }
  void add_param_group(const std::vector<Tensor>& params, const Options& options) {
    add_param_group(positional(params, num_params()), options);
  }
  Options& options(std::size_t group = 0) { return options_.at(group); }
  const Options& options(std::size_t group = 0) const { return options_.at(group); }
  std::string name() const override { return Self::kName; }

 protected:
  double& group_lr(std::size_t g) override { return options_.at(g).lr; }
  double* group_momentum(std::size_t g) override { return momentum_of(options_.at(g)); }
  void check_momentum(std::size_t g, double m) const override {
    Options o = options_.at(g);
    if (double* p = momentum_of(o)) *p = m;
    Self::validate(o);
  }

 private:
  static double* momentum_of(Options& o) {
    if constexpr (requires { o.momentum; })
      return &o.momentum;
    else if constexpr (requires { o.betas.first; })
      return &o.betas.first;
    else
      return nullptr;
  }
  static std::vector<std::string> declared_scalars() {
    if constexpr (requires { Self::scalar_names(); })
      return Self::scalar_names();
    else
      return {};
  }
  /// Names "0", "1", ... for parameters given without names (their flat position).
  static NamedParams positional(const std::vector<Tensor>& ps, std::size_t first) {
    NamedParams r;
    for (std::size_t i = 0; i < ps.size(); ++i) r.emplace_back(std::to_string(first + i), ps[i]);
    return r;
  }
  std::vector<Options> options_;
};

/// Throws ValueError("<opt>: <what> must be <range>, got <v>") unless ok.
void require(bool ok, const std::string& optimizer, const std::string& what, double value,
             const std::string& range);

}  // namespace tapegrad::optim
