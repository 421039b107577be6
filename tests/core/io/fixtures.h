// Files other tools wrote (tests/reference/io/, by scripts/gen_io_fixtures.py, run by hand) and
// what tapegrad must read from them: expected.json lists each file's tensors with their loaded
// dtype, shape and values (floats as float.hex() text, so NaN, infinities and -0.0 survive).
#pragma once
#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../../torch_data.h"

namespace fixtures {

/// The path of a fixture.
inline std::string path(const std::string& name) {
  return (std::filesystem::path(TAPEGRAD_TORCH_DATA) / "io" / name).string();
}

/// expected.json's files: file name -> {tensor name -> {dtype, shape, values}}.
inline const nlohmann::json& all() {
  static const nlohmann::json files = torch_data::file("io/expected.json").at("files");
  return files;
}

/// expected.json's entry for one file.
inline const nlohmann::json& expected(const std::string& file) { return all().at(file); }

/// t has the expected dtype and shape and, bit for bit, the expected values (any NaN
/// matching a NaN).
inline void check_tensor(const tapegrad::Tensor& t, const nlohmann::json& e,
                         const std::string& what) {
  INFO(what);
  REQUIRE(std::string(tapegrad::dtype_name(t.dtype())) == e.at("dtype").get<std::string>());
  REQUIRE(t.shape() == e.at("shape").get<tapegrad::Shape>());
  const auto& values = e.at("values");
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.numel());
  if (t.dtype() == tapegrad::kInt64) {
    CHECK(t.to_vector<std::int64_t>() == values.get<std::vector<std::int64_t>>());
    return;
  }
  const std::vector<double> got = t.to_vector<double>();  // float32 widens exactly
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double want = std::strtod(values[i].get<std::string>().c_str(), nullptr);
    INFO("element " << i << ": got " << got[i] << ", expected " << want);
    if (std::isnan(want))
      CHECK(std::isnan(got[i]));
    else
      CHECK(std::bit_cast<std::uint64_t>(got[i]) == std::bit_cast<std::uint64_t>(want));
  }
}

/// A loaded dict holds exactly the file's expected tensors, in the expected order when given.
inline void check_dict(const tapegrad::io::TensorDict& got, const std::string& file,
                       const std::vector<std::string>& order = {}) {
  const nlohmann::json& e = expected(file);
  REQUIRE(got.size() == e.size());
  if (!order.empty()) {
    std::vector<std::string> names;
    for (const auto& entry : got) names.push_back(entry.first);
    CHECK(names == order);
  }
  for (const auto& entry : got) {
    const std::string& name = entry.first;
    const tapegrad::Tensor& t = entry.second;
    REQUIRE_MESSAGE(e.contains(name), file, ": unexpected tensor ", name);
    check_tensor(t, e.at(name), file + ": " + name);
  }
}

}  // namespace fixtures
