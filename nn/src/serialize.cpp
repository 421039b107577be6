// Module checkpoints over Archive (the state dict: parameters and persistent buffers): every
// check happens before the first value changes.
#include "tapegrad/nn/serialize.h"

#include <set>

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::nn {

void save_state(const Module& m, Archive& ar, const std::string& prefix) {
  for (const auto& [name, t] : m.state_dict()) ar.put(prefix + name, t);
}

StateDict read_state(const Module& m, const Archive& ar, const std::string& prefix) {
  std::set<std::string> buffers;
  for (const auto& [name, b] : m.named_buffers()) buffers.insert(name);
  std::set<std::string> expected;
  StateDict state;
  for (const auto& [name, p] : m.state_dict()) {
    const char* kind = buffers.count(name) ? "buffer" : "parameter";
    const std::string key = prefix + name;
    expected.insert(key);
    if (!ar.is_tensor(key))
      throw ValueError(msg("load: missing ", kind, " '", name, "' (entry '", key, "')"));
    Tensor v = ar.get(key);
    if (v.dtype() != p.dtype() || v.shape() != p.shape())
      throw ValueError(msg("load: ", kind, " '", name, "' is ", shape_str(v.shape()), " ",
                           dtype_name(v.dtype()), " in the checkpoint but ", shape_str(p.shape()),
                           " ", dtype_name(p.dtype()), " in the model"));
    state.emplace_back(name, std::move(v));
  }
  for (const std::string& key : ar.names_with_prefix(prefix))
    if (!expected.count(key))
      throw ValueError(msg("load: unexpected entry '", key.substr(prefix.size()),
                           "' in the checkpoint (entry '", key, "')"));
  return state;
}

void apply_state(Module& m, const StateDict& state) {
  // copy_ bumps each tensor's version, so a graph that saved the old values cannot backward
  // through the new ones. Same order as read_state's: m's state dict.
  NoGradGuard no_grad;
  const StateDict target = m.state_dict();
  for (std::size_t i = 0; i < target.size(); ++i) target[i].second.copy_(state[i].second);
}

void load_state(Module& m, const Archive& ar, const std::string& prefix) {
  apply_state(m, read_state(m, ar, prefix));
}

void check_state(const Module& m, const Archive& ar, const std::string& prefix) {
  read_state(m, ar, prefix);
}

void save(const Module& m, const std::string& path) {
  Archive ar;
  save_state(m, ar);
  ar.save(path);
}

void load(Module& m, const std::string& path) {
  const Archive ar = Archive::load(path);
  try {
    load_state(m, ar);
  } catch (const ValueError& e) {
    throw ValueError(msg(path, ": ", e.what()));
  }
}

void Module::save(const std::string& path) const { nn::save(*this, path); }
void Module::load(const std::string& path) { nn::load(*this, path); }

}  // namespace tapegrad::nn
