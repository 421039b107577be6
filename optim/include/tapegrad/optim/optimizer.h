// The optimizer interface, in three layers. Optimizer owns parameter groups, per-parameter state
// (buffers parallel to the parameters, named for checkpoints), zero_grad, the per-group values
// schedules set (the lr, and a cycled momentum where the optimizer declares one) and state
// save/load. ElementwiseOptimizer is every optimizer whose rule updates each parameter from its
// own gradient and state (all but LBFGS). OptimizerWith gives a concrete optimizer its options.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/core/io/stateful.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::optim {

/// Named parameters, as nn::Module::named_parameters() returns them.
using NamedParams = std::vector<std::pair<std::string, Tensor>>;

/// One parameter's optimizer state: a step count and the buffers the optimizer declared
/// (allocated on the parameter's first step, as PyTorch does).
struct ParamState {
  std::int64_t step = 0;        ///< updates applied to this parameter so far
  std::vector<Tensor> buffers;  ///< indexed like the optimizer's buffer names
  std::vector<double> scalars;  ///< indexed like the optimizer's scalar names
};

/// The base of every optimizer (torch.optim.Optimizer): parameter groups, each with its own lr,
/// per-parameter state, zero_grad, and saving and loading all of it.
class Optimizer : public Stateful {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Re-evaluates the model: zero the gradients, compute the loss, call backward, return it.
  using Closure = std::function<Tensor()>;

  /// One update of every parameter that has a gradient (run without recording).
  virtual void step() = 0;
  /// Runs closure with recording on, then step(); returns the closure's loss (torch's
  /// step(closure)). LBFGS evaluates it several times per step.
  virtual Tensor step(const Closure& closure);
  /// Zeroes every parameter's gradient in place.
  void zero_grad();

  /// Number of parameter groups.
  std::size_t num_groups() const { return groups_.size(); }
  /// A group's parameters, in the order given; ValueError for a group that does not exist.
  const std::vector<Tensor>& params(std::size_t group = 0) const;
  /// The learning rate of a group, as schedulers read and set it.
  double lr(std::size_t group = 0) const;
  /// Sets a group's learning rate (as a scheduler does); ValueError unless lr >= 0.
  void set_lr(double lr, std::size_t group);
  /// The lr a scheduler started from (set by the first scheduler attached; NaN before).
  double initial_lr(std::size_t group) const;
  /// Sets a group's initial lr, which schedulers start from (saved with the state).
  void set_initial_lr(double lr, std::size_t group);
  /// The name of the per-group hyperparameter a cycling schedule (CyclicLR, OneCycleLR) moves,
  /// as the optimizer declares it (kCycledMomentum): "momentum" for SGD and RMSprop, "beta1"
  /// for the Adam family; nullptr when it declares none, and such schedules then refuse it.
  virtual const char* cycled_momentum() const { return nullptr; }
  /// That hyperparameter's value in a group (ValueError naming the optimizer when it declares
  /// none). It is saved with the group's lr.
  double momentum(std::size_t group = 0) const;
  /// Sets it, checked by the optimizer's own validation.
  void set_momentum(double momentum, std::size_t group);
  /// The step count and buffers of a parameter, by flat index over all groups.
  const ParamState& state(std::size_t param_index) const { return state_.at(param_index); }
  /// Parameters over all groups.
  std::size_t num_params() const { return state_.size(); }
  /// Type name used in checkpoints and messages ("Adam").
  virtual std::string name() const = 0;
  /// The names of each ParamState's buffers and scalars, in their order, as checkpoints key
  /// them ({"exp_avg", "exp_avg_sq", "max_exp_avg_sq"} for Adam).
  ///@{
  const std::vector<std::string>& state_buffer_names() const { return buffer_names_; }
  const std::vector<std::string>& state_scalar_names() const { return scalar_names_; }
  ///@}

  /// Puts every group's lr, every step count and every buffer into ar under prefix, keyed by
  /// parameter name ("optim.state.0.weight.exp_avg").
  void save_state(Archive& ar, const std::string& prefix = "optim.") const override;
  /// Reads and checks what save_state wrote (type, names, shapes, values), changing nothing;
  /// ValueError naming the entry.
  std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                          const std::string& prefix = "optim.") const override;
  void apply_state(LoadedState& state) override;
  /// Restores what save_state wrote, all of it or (on a ValueError) nothing.
  void load_state(const Archive& ar, const std::string& prefix = "optim.") {
    Stateful::load_state(ar, prefix);
  }
  /// Throws what load_state would throw for ar, changing nothing.
  void check_state(const Archive& ar, const std::string& prefix = "optim.") const {
    Stateful::check_state(ar, prefix);
  }

 protected:
  /// buffer_names and scalar_names fix what each ParamState holds (e.g. {"exp_avg", "exp_avg_sq"}).
  Optimizer(std::vector<std::string> buffer_names, std::vector<std::string> scalar_names = {});
  /// Adds a group; names identify parameters in checkpoints and must be unique.
  void add_group(const NamedParams& params);
  /// A group's lr, as its options hold it.
  virtual double group_lr(std::size_t group) const = 0;
  /// Stores lr in a group's options (set_lr calls it after checking).
  virtual void put_group_lr(std::size_t group, double lr) = 0;
  /// A group's cycled momentum (called only when cycled_momentum() names one).
  virtual double group_momentum(std::size_t group) const;
  /// Throws what the optimizer's validation says of the group with cycled momentum m.
  virtual void check_group_momentum(std::size_t group, double m) const;
  /// Sets it (after check_group_momentum passed).
  virtual void put_group_momentum(std::size_t group, double m);
  /// closure(), recorded whatever the caller's mode; its result must be a one-element tensor.
  Tensor evaluate(const Closure& closure) const;
  /// Buffer i of a state, created on first use filled with `init` in the parameter's shape.
  static Tensor& buffer(ParamState& s, std::size_t i, const Tensor& like, double init = 0);
  /// Parameter i of a group and its state (the state's index is the group's first plus i).
  ParamState& param_state(std::size_t group, std::size_t i);

 private:
  const Tensor& params_flat(std::size_t i) const;
  /// What apply_state applies, read and checked.
  struct Loaded : LoadedState {
    std::vector<std::pair<double, double>> lrs;  // (lr, initial_lr) per group
    std::vector<double> momenta;                 // per group; NaN: none saved, keep the current
    std::vector<ParamState> state;
  };
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

/// The optimizers whose rule updates each parameter from its own gradient and state (SGD, Adam
/// and the rest of torch.optim but LBFGS): step() runs without recording, skips parameters
/// without a gradient (never reached by backward, or frozen), as PyTorch does, advances each
/// other one's step count and calls update.
class ElementwiseOptimizer : public Optimizer {
 public:
  void step() override;
  using Optimizer::step;

 protected:
  using Optimizer::Optimizer;
  /// Updates one parameter: called by step() with the group index, the parameter's state (its
  /// step count already advanced), the parameter and its gradient.
  virtual void update(std::size_t group, ParamState& state, const Tensor& param,
                      const Tensor& grad) = 0;
};

/// How an optimizer declares the hyperparameter cycling schedules move (torch's
/// cycle_momentum): its name, and where a group's options hold it. SGD declares
///   static constexpr CycledMomentum<SGDOptions> kCycledMomentum{
///       "momentum", [](SGDOptions& o) -> double& { return o.momentum; }};
/// An optimizer that declares none is refused by a cycling schedule, by name.
template <typename Options>
struct CycledMomentum {
  const char* name;  ///< the hyperparameter's name, as messages spell it: "momentum" or "beta1"
  double& (*of)(Options&);  ///< returns where a group's options hold it
};

/// What a concrete optimizer derives from, as `class Adam : public OptimizerWith<Adam,
/// AdamOptions>`: its constructors (inherited with `using OptimizerWith::OptimizerWith;`), its
/// name and parameter groups that each carry a full Options struct (with an `lr` member), so
/// per-layer learning rates and per-group weight decay work. Self supplies what is particular
/// to it:
///   static constexpr const char* kName;              "Adam": messages and checkpoints
///   static std::vector<std::string> buffer_names();  its per-parameter tensors, in order
///   static void validate(const Options&);            throws ValueError naming the bad value
///   void update(group, state, param, grad) override; the rule
/// and, when it has them, static std::vector<std::string> scalar_names() (per-parameter
/// numbers) and kCycledMomentum (above). Base is the layer it builds on: ElementwiseOptimizer,
/// or Optimizer for one that steps all its parameters at once (LBFGS, which defines step()).
template <typename Self, typename Options, typename Base = ElementwiseOptimizer>
class OptimizerWith : public Base {
 public:
  /// One group of params with options; ValueError naming a bad option. The parameters are named
  /// "0", "1", ... in checkpoints.
  explicit OptimizerWith(const std::vector<Tensor>& params, Options options = {})
      : Base(Self::buffer_names(), declared_scalars()) {
    add_param_group(params, options);
  }
  /// The same, with named parameters (as named_parameters() gives them): their names identify
  /// them in checkpoints.
  explicit OptimizerWith(const NamedParams& params, Options options = {})
      : Base(Self::buffer_names(), declared_scalars()) {
    add_param_group(params, options);
  }

  /// Adds a group with its own options (validated like the constructor's).
  void add_param_group(const NamedParams& params, const Options& options) {
    Self::validate(options);
    this->add_group(params);
    options_.push_back(options);
  }
  /// The same, for parameters without names: named by their flat index over all groups.
  void add_param_group(const std::vector<Tensor>& params, const Options& options) {
    add_param_group(positional(params, this->num_params()), options);
  }
  /// A group's options, to read or change between steps (changes are not validated).
  Options& options(std::size_t group = 0) { return options_.at(group); }
  /// The same, read-only.
  const Options& options(std::size_t group = 0) const { return options_.at(group); }
  /// Self::kName.
  std::string name() const override { return Self::kName; }
  /// Self's kCycledMomentum name, or nullptr when Self declares none.
  const char* cycled_momentum() const override {
    if constexpr (kCycles) return Self::kCycledMomentum.name;
    return nullptr;
  }

 protected:
  /// The lr in a group's options.
  double group_lr(std::size_t g) const override { return options_.at(g).lr; }
  /// Stores lr in a group's options.
  void put_group_lr(std::size_t g, double lr) override { options_.at(g).lr = lr; }
  /// The cycled hyperparameter in a group's options (the base's ValueError when none is declared).
  double group_momentum(std::size_t g) const override {
    if constexpr (kCycles) {
      Options o = options_.at(g);  // the declaration's accessor takes options it may write
      return Self::kCycledMomentum.of(o);
    }
    return Base::group_momentum(g);
  }
  /// Validates a group's options with m in place of the cycled hyperparameter (Self::validate).
  void check_group_momentum(std::size_t g, double m) const override {
    if constexpr (kCycles) {
      Options o = options_.at(g);
      Self::kCycledMomentum.of(o) = m;
      Self::validate(o);
    }
  }
  /// Stores m in a group's options as the cycled hyperparameter.
  void put_group_momentum(std::size_t g, double m) override {
    if constexpr (kCycles) Self::kCycledMomentum.of(options_.at(g)) = m;
  }

 private:
  static constexpr bool kCycles = requires { Self::kCycledMomentum; };
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
