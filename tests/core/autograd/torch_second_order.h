// Checking recorded derivatives against torch's: a reference file of
// scripts/gen_torch_reference.py's second_order_cases (inputs, v, u, torch's first-order
// gradients and second-order d/dx_i <gradients, u>), each case's function named by "op".
#pragma once
#include <map>

#include "../../torch_data.h"
#include "../helpers.h"

/// A case's function of its inputs.
using SecondOrderFn = std::function<tg::Tensor(const std::vector<tg::Tensor>&)>;

/// Every case of `file` has a function in ops (and every function a case), and its first and
/// second derivatives are torch's.
inline void check_torch_second_order(const char* file,
                                     const std::map<std::string, SecondOrderFn>& ops) {
  const nlohmann::json cases = torch_data::cases(file);
  CHECK(cases.size() == ops.size());
  for (const auto& c : cases) {
    const std::string op = c.at("op");
    CAPTURE(op);
    REQUIRE(ops.count(op) == 1);
    std::vector<tg::Tensor> in;
    for (const auto& j : c.at("inputs")) in.push_back(torch_data::tensor(j).requires_grad_());
    const tg::Tensor y = ops.at(op)(in);
    const std::vector<tg::Tensor> first =
        tg::grad({y}, in, {torch_data::tensor(c.at("v"))}, {.create_graph = true});
    tg::Tensor s = tg::zeros({}, {.dtype = tg::kFloat64});
    for (std::size_t i = 0; i < in.size(); ++i) {
      CAPTURE(i);
      check_values(first[i].detach(), torch_data::tensor(c.at("first")[i]).to_vector<double>());
      s = s + tg::sum(first[i] * torch_data::tensor(c.at("u")[i]));
    }
    if (!s.requires_grad()) {  // a gradient torch found independent of every input
      for (const auto& j : c.at("second")) CHECK(j.is_null());
      continue;
    }
    const std::vector<tg::Tensor> second = tg::grad({s}, in, {}, {.allow_unused = true});
    for (std::size_t i = 0; i < in.size(); ++i) {
      CAPTURE(i);
      const nlohmann::json& want = c.at("second")[i];
      if (want.is_null())
        CHECK((!second[i].defined() || second[i].abs().max().item() == 0));
      else if (!second[i].defined())  // unused here (sign's zero derivative): torch's zeros
        CHECK(torch_data::tensor(want).abs().max().item() == 0);
      else
        check_values(second[i], torch_data::tensor(want).to_vector<double>());
    }
  }
}
