// The recurrent modules against tests/reference/rnn.json: torch's parameters loaded by name,
// then the outputs, the final state and every gradient of
// sum(output * mix_output) + sum(h_n * mix_h_n) + sum(c_n * mix_c_n) compared at parity.
#pragma once
#include <functional>
#include <string>

#include "../torch_data.h"

namespace rnn_reference {

/// What a case's module gives back for x from the state (h0, c0) and the case's lengths.
struct Outputs {
  tapegrad::Tensor output, h_n, c_n;
};

/// Runs every case whose module name passes `want` through `run`, which builds the module from
/// the case's config, loads `state` into it (strict) and calls it; checks values and gradients.
/// Returns how many cases ran.
inline int check_cases(
    const std::function<bool(const std::string&)>& want,
    const std::function<Outputs(const nlohmann::json& c, const tapegrad::nn::StateDict& state,
                                std::vector<tapegrad::Tensor>& params, const tapegrad::Tensor& x,
                                const tapegrad::Tensor& h0, const tapegrad::Tensor& c0)>& run) {
  namespace tg = tapegrad;
  const nlohmann::json all = torch_data::cases("rnn.json");
  int n = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const nlohmann::json& c = all[i];
    const std::string module = c.at("module");
    if (!want(module)) continue;
    ++n;
    INFO("rnn.json case " << i << ": " << module << " " << c.at("config").dump());
    const tg::nn::StateDict state = torch_data::state_dict(c.at("params"));
    auto leaf = [&](const char* key) {
      tg::Tensor t = torch_data::tensor(c.at(key));
      if (t.defined()) t.requires_grad_();
      return t;
    };
    const tg::Tensor x = leaf("x"), h0 = leaf("h0"), c0 = leaf("c0");
    std::vector<tg::Tensor> params;
    const Outputs got = run(c, state, params, x, h0, c0);
    REQUIRE(params.size() == c.at("grads").size());
    tg::Tensor loss = tg::zeros({}, {.dtype = tg::kFloat64});
    const std::pair<const char*, const tg::Tensor*> parts[] = {
        {"output", &got.output}, {"h_n", &got.h_n}, {"c_n", &got.c_n}};
    for (const auto& part : parts) {
      INFO("the " << part.first);
      const nlohmann::json& want_value = c.at(part.first);
      REQUIRE(want_value.is_null() != part.second->defined());
      if (want_value.is_null()) continue;
      const tg::Tensor w = torch_data::tensor(want_value);
      CHECK(part.second->shape() == w.shape());
      torch_data::check_parity_values(*part.second, w);
      loss =
          loss + (*part.second * torch_data::tensor(c.at(std::string("mix_") + part.first))).sum();
    }
    loss.backward();
    const std::pair<const char*, const tg::Tensor*> inputs[] = {
        {"grad_x", &x}, {"grad_h0", &h0}, {"grad_c0", &c0}};
    for (const auto& in : inputs) {
      INFO(in.first);
      if (!in.second->defined()) continue;
      torch_data::check_parity_values(in.second->grad(), torch_data::tensor(c.at(in.first)));
    }
    for (std::size_t k = 0; k < params.size(); ++k) {
      const nlohmann::json& g = c.at("grads")[k];
      INFO("the gradient of " << g.at("name").get<std::string>());
      torch_data::check_parity_values(params[k].grad(), torch_data::tensor(g.at("value")));
    }
  }
  return n;
}

}  // namespace rnn_reference
