// Elementwise math, activations, clamp, extrema and selection against torch 1.13's own outputs
// and gradients (tests/reference/elementwise.json, scripts/gen_torch_reference.py), at the
// parity tolerance: 1e-10 absolute + 1e-9 relative, float64.
#include <functional>
#include <map>
#include <optional>

#include "../torch_data.h"

namespace {

using Inputs = std::vector<tg::Tensor>;
using Options = nlohmann::json;
using Op = std::function<tg::Tensor(const Inputs&, const Options&)>;

std::optional<double> maybe(const Options& o, const char* key) {
  if (o.at(key).is_null()) return std::nullopt;
  return o.at(key).get<double>();
}

// Every op the generator writes, by the name it writes.
const std::map<std::string, Op>& ops() {
  static const std::map<std::string, Op> table = {
      {"add", [](const Inputs& x, const Options&) { return tg::add(x[0], x[1]); }},
      {"sub", [](const Inputs& x, const Options&) { return tg::sub(x[0], x[1]); }},
      {"mul", [](const Inputs& x, const Options&) { return tg::mul(x[0], x[1]); }},
      {"div", [](const Inputs& x, const Options&) { return tg::div(x[0], x[1]); }},
      {"maximum", [](const Inputs& x, const Options&) { return tg::maximum(x[0], x[1]); }},
      {"minimum", [](const Inputs& x, const Options&) { return tg::minimum(x[0], x[1]); }},
      {"pow", [](const Inputs& x, const Options& o) { return tg::pow(x[0], o.at("p")); }},
      {"exp", [](const Inputs& x, const Options&) { return tg::exp(x[0]); }},
      {"log", [](const Inputs& x, const Options&) { return tg::log(x[0]); }},
      {"sqrt", [](const Inputs& x, const Options&) { return tg::sqrt(x[0]); }},
      {"rsqrt", [](const Inputs& x, const Options&) { return tg::rsqrt(x[0]); }},
      {"abs", [](const Inputs& x, const Options&) { return tg::abs(x[0]); }},
      {"square", [](const Inputs& x, const Options&) { return tg::square(x[0]); }},
      {"sin", [](const Inputs& x, const Options&) { return tg::sin(x[0]); }},
      {"cos", [](const Inputs& x, const Options&) { return tg::cos(x[0]); }},
      {"neg", [](const Inputs& x, const Options&) { return tg::neg(x[0]); }},
      {"sign", [](const Inputs& x, const Options&) { return tg::sign(x[0]); }},
      {"affine",
       [](const Inputs& x, const Options& o) { return tg::affine(x[0], o.at("a"), o.at("b")); }},
      {"clamp", [](const Inputs& x,
                   const Options& o) { return tg::clamp(x[0], maybe(o, "lo"), maybe(o, "hi")); }},
      {"clamp_min",
       [](const Inputs& x, const Options& o) { return tg::clamp_min(x[0], o.at("lo")); }},
      {"clamp_max",
       [](const Inputs& x, const Options& o) { return tg::clamp_max(x[0], o.at("hi")); }},
      {"sigmoid", [](const Inputs& x, const Options&) { return tg::sigmoid(x[0]); }},
      {"tanh", [](const Inputs& x, const Options&) { return tg::tanh(x[0]); }},
      {"relu", [](const Inputs& x, const Options&) { return tg::relu(x[0]); }},
      {"leaky_relu", [](const Inputs& x,
                        const Options& o) { return tg::leaky_relu(x[0], o.at("negative_slope")); }},
      {"softplus",
       [](const Inputs& x, const Options& o) {
         return tg::softplus(x[0], o.at("beta"), o.at("threshold"));
       }},
      {"elu", [](const Inputs& x, const Options& o) { return tg::elu(x[0], o.at("alpha")); }},
      {"gelu",
       [](const Inputs& x, const Options& o) {
         return tg::gelu(x[0], o.at("approximate") == "tanh" ? tg::GeluApproximate::Tanh
                                                             : tg::GeluApproximate::None);
       }},
      {"silu", [](const Inputs& x, const Options&) { return tg::silu(x[0]); }},
      {"hardtanh",
       [](const Inputs& x, const Options& o) {
         return tg::hardtanh(x[0], o.at("min_val"), o.at("max_val"));
       }},
      {"relu6", [](const Inputs& x, const Options&) { return tg::relu6(x[0]); }},
      {"where", [](const Inputs& x, const Options&) { return tg::where(x[0], x[1], x[2]); }},
      {"where_scalar_a",
       [](const Inputs& x, const Options& o) {
         return tg::where(x[0], o.at("a").get<double>(), x[1]);
       }},
      {"where_scalar_b",
       [](const Inputs& x, const Options& o) {
         return tg::where(x[0], x[1], o.at("b").get<double>());
       }},
      {"masked_fill", [](const Inputs& x,
                         const Options& o) { return tg::masked_fill(x[0], x[1], o.at("value")); }},
  };
  return table;
}

}  // namespace

TEST_CASE(
    "elementwise ops: torch 1.13's outputs and gradients (tests/reference/elementwise.json)") {
  const nlohmann::json cases = torch_data::cases("elementwise.json");
  CHECK(cases.size() >= 80);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const nlohmann::json& c = cases[i];
    const std::string op = c.at("options").at("op");
    INFO("case " << i << ": " << op << " " << c.at("options").dump());
    const auto it = ops().find(op);
    REQUIRE_MESSAGE(it != ops().end(), "no entry for op ", op);
    const Inputs in = torch_data::leaves(c);
    torch_data::check_parity(c, in, it->second(in, c.at("options")));
  }
}
