// The Optimizer base: groups, state, zero_grad, learning rates, checkpoints.
#include "tapegrad/optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tensor/tensor_impl.h"
#include "validate.h"

namespace tapegrad::optim {

void require(bool ok, const std::string& optimizer, const std::string& what, double value,
             const std::string& range) {
  if (!ok) throw ValueError(msg(optimizer, ": ", what, " must be ", range, ", got ", value));
}

Optimizer::Optimizer(std::vector<std::string> buffer_names, std::vector<std::string> scalar_names)
    : buffer_names_(std::move(buffer_names)), scalar_names_(std::move(scalar_names)) {}

void Optimizer::add_group(const NamedParams& params) {
  std::vector<Tensor> seen;  // identity, not value: a linear scan, as parameter lists are short
  for (const auto& g : groups_) seen.insert(seen.end(), g.params.begin(), g.params.end());
  for (const auto& [name, p] : params) {
    if (!p.defined()) throw ValueError(msg(this->name(), ": parameter '", name, "' is undefined"));
    // Leaves only, as torch: a frozen one (requires_grad_(false), a fine-tuned backbone) is
    // accepted and, getting no gradient, neither updated nor given state.
    if (!p.is_leaf())
      throw ValueError(msg(this->name(), ": parameter '", name,
                           "' must be a leaf that requires grad (or a frozen leaf), not the "
                           "result of op '",
                           p.grad_fn(), "'; optimize the tensors it was computed from"));
    if (p.dtype() != kFloat32 && p.dtype() != kFloat64)
      throw ValueError(msg(this->name(), ": parameter '", name, "' is ", dtype_name(p.dtype()),
                           "; parameters are floating-point"));
    // The parameter bound by name: clang's OpenMP cannot capture a structured binding.
    const Tensor& param = p;
    if (std::any_of(seen.begin(), seen.end(), [&](const Tensor& q) { return q.is_same(param); }))
      throw ValueError(msg(this->name(), ": parameter '", name, "' appears twice"));
    seen.push_back(p);
    for (const std::string& n : names_)
      if (n == name) throw ValueError(msg(this->name(), ": two parameters are named '", name, "'"));
  }
  Group g{{}, state_.size(), std::numeric_limits<double>::quiet_NaN()};
  for (const auto& [name, p] : params) {
    g.params.push_back(p);
    names_.push_back(name);
    ParamState s;
    s.buffers.resize(buffer_names_.size());
    s.scalars.resize(scalar_names_.size());
    state_.push_back(std::move(s));
  }
  groups_.push_back(std::move(g));
}

void ElementwiseOptimizer::step() {
  NoGradGuard no_grad;
  for (std::size_t g = 0; g < num_groups(); ++g) {
    const std::vector<Tensor>& ps = params(g);
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const Tensor grad = ps[i].grad();
      if (!grad.defined()) continue;  // never reached by backward, or frozen: left alone
      ParamState& s = param_state(g, i);
      ++s.step;
      update(g, s, ps[i], grad);
      // An in-place update as torch's: a graph that saved the parameter before this step then
      // refuses its backward instead of differentiating at the new values.
      mark_written(ps[i]);
    }
  }
}

ParamState& Optimizer::param_state(std::size_t group, std::size_t i) {
  return state_[groups_.at(group).first + i];
}

Tensor Optimizer::evaluate(const Closure& closure) const {
  if (!closure) throw ValueError(msg(name(), ": step(closure) got an empty closure"));
  struct Recording {  // the caller may be under a NoGradGuard; the closure must record
    bool previous = is_grad_enabled();
    Recording() { set_grad_enabled(true); }
    ~Recording() { set_grad_enabled(previous); }
  } recording;
  Tensor loss = closure();
  if (!loss.defined() || loss.numel() != 1)
    throw ValueError(msg(name(), ": the closure must return the loss, a one-element tensor",
                         loss.defined() ? msg("; got shape ", shape_str(loss.shape())) : ""));
  return loss;
}

Tensor Optimizer::step(const Closure& closure) {
  Tensor loss = evaluate(closure);
  step();
  return loss;
}

void Optimizer::zero_grad() {
  for (const Group& g : groups_)
    for (const Tensor& p : g.params) p.zero_grad();
}

const std::vector<Tensor>& Optimizer::params(std::size_t group) const {
  if (group >= groups_.size())
    throw ValueError(
        msg(name(), ": group ", group, " does not exist (", groups_.size(), " groups)"));
  return groups_[group].params;
}

double Optimizer::lr(std::size_t group) const {
  params(group);
  return group_lr(group);
}
void Optimizer::set_lr(double lr, std::size_t group) {
  params(group);
  if (!(lr >= 0)) throw ValueError(msg(name(), ": lr must be >= 0, got ", lr));
  put_group_lr(group, lr);
}
double Optimizer::initial_lr(std::size_t group) const {
  params(group);
  return groups_[group].initial_lr;
}
void Optimizer::set_initial_lr(double lr, std::size_t group) {
  params(group);
  groups_[group].initial_lr = lr;
}

Tensor& Optimizer::buffer(ParamState& s, std::size_t i, const Tensor& like, double init) {
  Tensor& b = s.buffers.at(i);
  if (!b.defined()) b = full(like.shape(), init, {.dtype = like.dtype()});
  return b;
}

namespace {
[[noreturn]] void no_cycled_momentum(const std::string& optimizer) {
  throw ValueError(
      msg(optimizer, " has no momentum to read or set (it declares no kCycledMomentum)"));
}
}  // namespace

double Optimizer::group_momentum(std::size_t) const { no_cycled_momentum(name()); }
void Optimizer::check_group_momentum(std::size_t, double) const { no_cycled_momentum(name()); }
void Optimizer::put_group_momentum(std::size_t, double) { no_cycled_momentum(name()); }

double Optimizer::momentum(std::size_t group) const {
  params(group);
  if (!cycled_momentum()) no_cycled_momentum(name());
  return group_momentum(group);
}

void Optimizer::set_momentum(double momentum, std::size_t group) {
  params(group);
  if (!cycled_momentum()) no_cycled_momentum(name());
  check_group_momentum(group, momentum);
  put_group_momentum(group, momentum);
}

void Optimizer::save_state(Archive& ar, const std::string& prefix) const {
  ar.put_text(prefix + "type", name());
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    ar.put(msg(prefix, "group.", g, ".lr"), scalar_tensor(group_lr(g), {.dtype = kFloat64}));
    ar.put(msg(prefix, "group.", g, ".initial_lr"),
           scalar_tensor(groups_[g].initial_lr, {.dtype = kFloat64}));
    // A cycled momentum (CyclicLR, OneCycleLR) is part of where the run is.
    if (cycled_momentum())
      ar.put(msg(prefix, "group.", g, ".momentum"),
             scalar_tensor(momentum(g), {.dtype = kFloat64}));
  }
  for (std::size_t i = 0; i < state_.size(); ++i) {
    const std::string base = prefix + "state." + names_[i] + ".";
    const ParamState& s = state_[i];
    ar.put(base + "step", scalar_tensor(static_cast<double>(s.step), {.dtype = kInt64}));
    for (std::size_t b = 0; b < s.buffers.size(); ++b)
      if (s.buffers[b].defined()) ar.put(base + buffer_names_[b], s.buffers[b]);
    for (std::size_t k = 0; k < s.scalars.size(); ++k)
      ar.put(base + scalar_names_[k], scalar_tensor(s.scalars[k], {.dtype = kFloat64}));
  }
}

std::unique_ptr<LoadedState> Optimizer::read_state(const Archive& ar,
                                                   const std::string& prefix) const {
  auto fail = [&](const std::string& what) {
    throw ValueError(msg(name(), ": cannot load state: ", what));
  };
  // Reads into the result only: apply_state changes the optimizer, after the last check, so a
  // bad entry anywhere leaves it as it was. Archive's getters name the file and the entry.
  if (!ar.contains(prefix + "type")) fail(msg("no '", prefix, "type' entry"));
  if (ar.get_text(prefix + "type") != name())
    fail(msg("the checkpoint holds ", ar.get_text(prefix + "type"), " state"));
  auto result = std::make_unique<Loaded>();
  Loaded& r = *result;
  auto& lrs = r.lrs;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string key = msg(prefix, "group.", g, ".");
    if (!ar.is_tensor(key + "lr")) fail(msg("no learning rate for group ", g));
    if (!ar.is_tensor(key + "initial_lr")) fail(msg("no initial learning rate for group ", g));
    const double lr = ar.get_double(key + "lr");
    if (!(lr >= 0)) fail(msg("entry '", key, "lr' is ", lr, "; a learning rate must be >= 0"));
    lrs.emplace_back(lr, ar.get_double(key + "initial_lr"));  // NaN: no scheduler set it
    double m = std::numeric_limits<double>::quiet_NaN();      // older checkpoints have none
    if (cycled_momentum() && ar.is_tensor(key + "momentum")) {
      m = ar.get_double(key + "momentum");
      try {
        check_group_momentum(g, m);
      } catch (const ValueError& e) {
        fail(msg("entry '", key, "momentum': ", e.what()));
      }
    }
    r.momenta.push_back(m);
  }
  if (ar.is_tensor(msg(prefix, "group.", groups_.size(), ".lr")))
    fail(msg("the checkpoint has more than ", groups_.size(), " groups"));
  std::vector<ParamState>& loaded = r.state;
  loaded.resize(state_.size());
  for (std::size_t i = 0; i < state_.size(); ++i) {
    const std::string base = prefix + "state." + names_[i] + ".";
    if (!ar.is_tensor(base + "step")) fail(msg("no state for parameter '", names_[i], "'"));
    loaded[i].step = ar.get_int64(base + "step");
    if (loaded[i].step < 0) fail(msg("entry '", base, "step' is negative: ", loaded[i].step));
    if (loaded[i].step > kMaxCount)
      fail(msg("entry '", base, "step' is ", loaded[i].step, "; at most 2^62 is a step count"));
    loaded[i].buffers.resize(buffer_names_.size());
    for (std::size_t b = 0; b < buffer_names_.size(); ++b) {
      if (!ar.is_tensor(base + buffer_names_[b])) continue;  // not created yet
      Tensor t = ar.get(base + buffer_names_[b]);
      const Tensor& p = params_flat(i);
      if (t.shape() != p.shape() || t.dtype() != p.dtype())
        fail(msg("buffer '", base + buffer_names_[b], "' is ", shape_str(t.shape()), " ",
                 dtype_name(t.dtype()), ", the parameter is ", shape_str(p.shape()), " ",
                 dtype_name(p.dtype())));
      loaded[i].buffers[b] = t.clone();  // own storage: training must not write into ar
    }
    for (const std::string& sn : scalar_names_) {
      if (!ar.is_tensor(base + sn)) fail(msg("no '", base + sn, "'"));
      loaded[i].scalars.push_back(ar.get_double(base + sn));
    }
  }
  return result;
}

void Optimizer::apply_state(LoadedState& state) {
  Loaded& r = dynamic_cast<Loaded&>(state);
  // Nothing below can throw.
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    put_group_lr(g, r.lrs[g].first);
    groups_[g].initial_lr = r.lrs[g].second;
    if (!std::isnan(r.momenta[g])) put_group_momentum(g, r.momenta[g]);
  }
  state_ = std::move(r.state);
}

const Tensor& Optimizer::params_flat(std::size_t i) const {
  for (const Group& g : groups_)
    if (i >= g.first && i < g.first + g.params.size()) return g.params[i - g.first];
  throw StateError("optimizer: parameter index out of range");
}

}  // namespace tapegrad::optim
