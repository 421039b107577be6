// Reference values PyTorch itself produced: tests/reference/*.json, written by
// scripts/gen_torch_reference.py (run by hand with Debian's python3-torch; the tests never need
// torch). Each case holds its float64 inputs, options, torch's output and torch's gradients of
// sum(output * mix).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tapegrad/tapegrad.hpp>
#include <vector>

#include "core/helpers.h"

namespace torch_data {

/// One file under tests/reference, whole.
inline nlohmann::json file(const std::string& name) {
  const std::string path = std::string(TAPEGRAD_TORCH_DATA) + "/" + name;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path);
  return nlohmann::json::parse(in);
}

/// The cases of one file under tests/reference.
inline nlohmann::json cases(const std::string& name) { return file(name).at("cases"); }

/// A stored tensor as float64, or int64 when stored so (undefined for null: an absent bias, an
/// input without gradient).
inline tapegrad::Tensor tensor(const nlohmann::json& j) {
  if (j.is_null()) return {};
  const bool int64 = j.value("dtype", "") == "int64";
  const auto shape = j.at("shape").get<tapegrad::Shape>();
  std::vector<double> data;  // non-finite values are stored as "inf", "-inf" and "nan"
  for (const auto& v : j.at("data"))
    data.push_back(!v.is_string() ? v.get<double>()
                   : v == "nan"   ? std::numeric_limits<double>::quiet_NaN()
                   : v == "inf"   ? std::numeric_limits<double>::infinity()
                                  : -std::numeric_limits<double>::infinity());
  const tapegrad::Tensor t =
      tapegrad::from_vector(data, shape, {.dtype = int64 ? tapegrad::kInt64 : tapegrad::kFloat64});
  return shape.empty() ? t.reshape({}) : t;  // from_vector reads an empty shape as 1-D
}

/// A list of {"name", "value"} tensors (a module's parameters as torch named them) as a state
/// dict of the given dtype, in the list's order.
inline tapegrad::nn::StateDict state_dict(const nlohmann::json& named,
                                          tapegrad::Dtype dtype = tapegrad::kFloat64) {
  tapegrad::nn::StateDict state;
  for (const auto& p : named)
    state.emplace_back(p.at("name").get<std::string>(), tensor(p.at("value")).to(dtype));
  return state;
}

/// A case's inputs: floating ones as leaves that require grad (unless the case lists them in
/// "no_grad"), others as stored.
inline std::vector<tapegrad::Tensor> leaves(const nlohmann::json& c) {
  const auto no_grad = c.value("no_grad", std::vector<std::size_t>{});
  std::vector<tapegrad::Tensor> r;
  for (const auto& j : c.at("inputs")) {
    tapegrad::Tensor t = tensor(j);
    const bool listed = std::find(no_grad.begin(), no_grad.end(), r.size()) != no_grad.end();
    if (t.defined() && t.dtype() == tapegrad::kFloat64 && !listed) t.requires_grad_();
    r.push_back(t);
  }
  return r;
}

/// y has torch's shape and values, and after backward of sum(y * mix) every leaf has torch's
/// gradient, each compared by same(got, torch's). An op tapegrad does not record (sign, the
/// comparisons) must be one whose gradient torch gives as zero.
inline void check_against(
    const nlohmann::json& c, const std::vector<tapegrad::Tensor>& leaves, const tapegrad::Tensor& y,
    const std::function<void(const tapegrad::Tensor&, const tapegrad::Tensor&)>& same) {
  const tapegrad::Tensor want = tensor(c.at("output"));
  CHECK(y.shape() == want.shape());
  same(y, want);
  if (c.at("mix").is_null()) return;
  if (!y.requires_grad()) {
    for (const auto& want_grad : c.at("grads"))
      if (!want_grad.is_null())
        for (double v : want_grad.at("data").get<std::vector<double>>()) CHECK(v == 0);
    return;
  }
  (y * tensor(c.at("mix"))).sum().backward();
  for (std::size_t k = 0; k < leaves.size(); ++k)
    if (leaves[k].defined() && leaves[k].requires_grad()) {
      INFO("the gradient of input " << k);
      const nlohmann::json& want_grad = c.at("grads")[k];
      REQUIRE_MESSAGE(!want_grad.is_null(), "torch gave input ", k, " no gradient");
      same(leaves[k].grad(), tensor(want_grad));
    }
}

/// check_against within tol (relative above 1).
inline void check_case(const nlohmann::json& c, const std::vector<tapegrad::Tensor>& leaves,
                       const tapegrad::Tensor& y, double tol) {
  check_against(c, leaves, y, [tol](const tapegrad::Tensor& got, const tapegrad::Tensor& want) {
    check_values(got, want.to_vector<double>(), tol);
  });
}

/// The parity tolerance of issue #11: |got - want| <= 1e-10 + 1e-9 |want| for every element.
inline void check_parity_values(const tapegrad::Tensor& got, const tapegrad::Tensor& want) {
  const std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  REQUIRE(g.size() == w.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    INFO("element " << i << ": got " << g[i] << ", torch " << w[i]);
    if (std::isnan(w[i]))  // torch's NaN (a softmax over nothing) must be NaN here too
      CHECK(std::isnan(g[i]));
    else
      CHECK(std::abs(g[i] - w[i]) <= 1e-10 + 1e-9 * std::abs(w[i]));
  }
}

/// Every parameter's gradient against torch's, in named_parameters() order: grads holds one
/// {"name", "value"} per parameter, each naming the same parameter.
inline void check_param_grads(const std::vector<std::pair<std::string, tapegrad::Tensor>>& named,
                              const nlohmann::json& grads) {
  REQUIRE(grads.size() == named.size());
  for (std::size_t k = 0; k < named.size(); ++k) {
    INFO("the gradient of " << named[k].first);
    CHECK(grads[k].at("name").get<std::string>() == named[k].first);
    check_parity_values(named[k].second.grad(), tensor(grads[k].at("value")));
  }
}

/// check_against at the parity tolerance.
inline void check_parity(const nlohmann::json& c, const std::vector<tapegrad::Tensor>& leaves,
                         const tapegrad::Tensor& y) {
  check_against(c, leaves, y, check_parity_values);
}

/// A table from a case's "op" to the tapegrad call that answers it.
using OpTable =
    std::map<std::string, std::function<tapegrad::Tensor(const std::vector<tapegrad::Tensor>&,
                                                         const nlohmann::json&)>>;

/// Every case of a file of many ops through table, at the parity tolerance; at least `at_least`
/// cases (a truncated file fails). `extra` runs after each case's check, for checks of its own.
inline void check_table(
    const char* file, const OpTable& table, std::size_t at_least,
    const std::function<void(const nlohmann::json&, const std::vector<tapegrad::Tensor>&)>& extra =
        {}) {
  const nlohmann::json all = cases(file);
  CHECK(all.size() >= at_least);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const nlohmann::json& c = all[i];
    const std::string op = c.at("options").at("op");
    INFO(std::string(file) << " case " << i << ": " << op << " " << c.at("options").dump());
    const auto it = table.find(op);
    REQUIRE_MESSAGE(it != table.end(), "no entry for op ", op);
    const std::vector<tapegrad::Tensor> in = leaves(c);
    check_parity(c, in, it->second(in, c.at("options")));
    if (extra) extra(c, in);
  }
}

/// An int-or-pair option as (first, second).
inline std::pair<std::int64_t, std::int64_t> pair(const nlohmann::json& j) {
  if (j.is_array()) return {j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>()};
  return {j.get<std::int64_t>(), j.get<std::int64_t>()};
}

}  // namespace torch_data
