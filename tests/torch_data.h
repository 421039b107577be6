// Reference values PyTorch itself produced: tests/torch/*.json, written by tests/torch/generate.py
// (run by hand with Debian's python3-torch; the tests never need torch). Each case holds its
// float64 inputs, options, torch's output and torch's gradients of sum(output * mix).
#pragma once
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <tapegrad/tapegrad.hpp>

namespace torch_data {

/// The cases of one file under tests/torch.
inline nlohmann::json cases(const std::string& file) {
  const std::string path = std::string(TAPEGRAD_TORCH_DATA) + "/" + file;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path);
  return nlohmann::json::parse(in).at("cases");
}

/// A stored tensor as float64 (undefined for null: an absent bias, an input without gradient).
inline tapegrad::Tensor tensor(const nlohmann::json& j) {
  if (j.is_null()) return {};
  return tapegrad::from_vector(j.at("data").get<std::vector<double>>(),
                               j.at("shape").get<tapegrad::Shape>(), {.dtype = tapegrad::kFloat64});
}

/// An int-or-pair option as (first, second).
inline std::pair<std::int64_t, std::int64_t> pair(const nlohmann::json& j) {
  if (j.is_array()) return {j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>()};
  return {j.get<std::int64_t>(), j.get<std::int64_t>()};
}

}  // namespace torch_data
