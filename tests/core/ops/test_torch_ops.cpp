// Ops against torch 1.13's own outputs and gradients, at the parity tolerance (1e-10 absolute +
// 1e-9 relative, float64): elementwise math, activations, clamp, extrema and selection
// (tests/reference/elementwise.json), reductions and statistics (reduce.json), shape ops and
// products (shape.json), written by
// scripts/gen_torch_reference.py. Each case names its op; the table below makes the call.
#include <functional>
#include <map>
#include <optional>

#include "../../torch_data.h"

namespace {

using Inputs = std::vector<tg::Tensor>;
using Options = nlohmann::json;

std::optional<double> maybe(const Options& o, const char* key) {
  if (o.at(key).is_null()) return std::nullopt;
  return o.at(key).get<double>();
}

using Ints = std::vector<std::int64_t>;

// A case's "dims": null (every dim) or a list.
tg::Dims dims(const Options& o) {
  if (o.at("dims").is_null()) return {};
  return o.at("dims").get<std::vector<std::int64_t>>();
}

// "p" is a number, or "inf".
double norm_p(const Options& o) {
  return o.at("p").is_string() ? INFINITY : o.at("p").get<double>();
}

// sum / mean over no dims (all) or one dim, as tapegrad spells them.
tg::Tensor sum_or_mean(bool mean, const tg::Tensor& x, const Options& o) {
  if (o.at("dims").is_null()) return mean ? tg::mean(x) : tg::sum(x);
  const std::int64_t d = o.at("dims").at(0);
  return mean ? tg::mean(x, d, o.at("keepdim")) : tg::sum(x, d, o.at("keepdim"));
}

// Every op the generator writes, by the name it writes.
const torch_data::OpTable& ops() {
  static const torch_data::OpTable table = {
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
      {"erf", [](const Inputs& x, const Options&) { return tg::erf(x[0]); }},
      {"neg", [](const Inputs& x, const Options&) { return tg::neg(x[0]); }},
      {"sign", [](const Inputs& x, const Options&) { return tg::sign(x[0]); }},
      {"eq", [](const Inputs& x, const Options&) { return tg::eq(x[0], x[1]); }},
      {"ne", [](const Inputs& x, const Options&) { return tg::ne(x[0], x[1]); }},
      {"lt", [](const Inputs& x, const Options&) { return tg::lt(x[0], x[1]); }},
      {"le", [](const Inputs& x, const Options&) { return tg::le(x[0], x[1]); }},
      {"gt", [](const Inputs& x, const Options&) { return tg::gt(x[0], x[1]); }},
      {"ge", [](const Inputs& x, const Options&) { return tg::ge(x[0], x[1]); }},
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
      {"sum", [](const Inputs& x, const Options& o) { return sum_or_mean(false, x[0], o); }},
      {"mean", [](const Inputs& x, const Options& o) { return sum_or_mean(true, x[0], o); }},
      {"amax",
       [](const Inputs& x, const Options& o) { return tg::amax(x[0], dims(o), o.at("keepdim")); }},
      {"amin",
       [](const Inputs& x, const Options& o) { return tg::amin(x[0], dims(o), o.at("keepdim")); }},
      {"logsumexp", [](const Inputs& x,
                       const Options& o) { return tg::logsumexp(x[0], dims(o), o.at("keepdim")); }},
      {"var",
       [](const Inputs& x, const Options& o) {
         return tg::var(x[0], dims(o), o.at("correction"), o.at("keepdim"));
       }},
      {"std",
       [](const Inputs& x, const Options& o) {
         return tg::std(x[0], dims(o), o.at("correction"), o.at("keepdim"));
       }},
      {"norm",
       [](const Inputs& x, const Options& o) {
         return tg::norm(x[0], norm_p(o), dims(o), o.at("keepdim"));
       }},
      {"max_dim",
       [](const Inputs& x, const Options& o) {
         return tg::max(x[0], o.at("dim"), o.at("keepdim")).first;
       }},
      {"min_dim",
       [](const Inputs& x, const Options& o) {
         return tg::min(x[0], o.at("dim"), o.at("keepdim")).first;
       }},
      {"sort",
       [](const Inputs& x, const Options& o) {
         return tg::sort(x[0], o.at("dim"), o.at("descending")).first;
       }},
      {"topk",
       [](const Inputs& x, const Options& o) {
         return tg::topk(x[0], o.at("k"), o.at("dim"), o.at("largest")).first;
       }},
      {"max_all", [](const Inputs& x, const Options&) { return tg::max(x[0]); }},
      {"min_all", [](const Inputs& x, const Options&) { return tg::min(x[0]); }},
      {"cumsum", [](const Inputs& x, const Options& o) { return tg::cumsum(x[0], o.at("dim")); }},
      {"softmax",
       [](const Inputs& x, const Options& o) { return tg::softmax(x[0], o.at("dim")); }},
      {"masked_softmax",
       [](const Inputs& x, const Options& o) {
         return tg::softmax(tg::masked_fill(x[0], x[1], -INFINITY), o.at("dim"));
       }},
      {"log_softmax",
       [](const Inputs& x, const Options& o) { return tg::log_softmax(x[0], o.at("dim")); }},
      {"argmax",
       [](const Inputs& x,
          const Options& o) { return tg::argmax(x[0], o.at("dim"), o.at("keepdim")); }},
      {"permute", [](const Inputs& x,
                     const Options& o) { return tg::permute(x[0], o.at("dims").get<Ints>()); }},
      {"unsqueeze",
       [](const Inputs& x, const Options& o) { return tg::unsqueeze(x[0], o.at("dim")); }},
      {"squeeze",
       [](const Inputs& x, const Options& o) {
         return o.at("dim").is_null() ? tg::squeeze(x[0]) : tg::squeeze(x[0], o.at("dim"));
       }},
      {"expand", [](const Inputs& x,
                    const Options& o) { return tg::expand(x[0], o.at("shape").get<tg::Shape>()); }},
      {"broadcast_to",
       [](const Inputs& x, const Options& o) {
         return tg::broadcast_to(x[0], o.at("shape").get<tg::Shape>());
       }},
      {"repeat", [](const Inputs& x,
                    const Options& o) { return tg::repeat(x[0], o.at("repeats").get<Ints>()); }},
      {"flip",
       [](const Inputs& x, const Options& o) { return tg::flip(x[0], o.at("dims").get<Ints>()); }},
      {"split",
       [](const Inputs& x, const Options& o) {
         return tg::split(x[0], o.at("split_size").get<std::int64_t>(), o.at("dim"))
             .at(o.at("piece"));
       }},
      {"split_sizes",
       [](const Inputs& x, const Options& o) {
         return tg::split(x[0], o.at("sizes").get<Ints>(), o.at("dim")).at(o.at("piece"));
       }},
      {"chunk",
       [](const Inputs& x,
          const Options&
              o) { return tg::chunk(x[0], o.at("chunks"), o.at("dim")).at(o.at("piece")); }},
      {"one_hot",
       [](const Inputs& x, const Options& o) { return tg::one_hot(x[0], o.at("num_classes")); }},
      {"reshape",
       [](const Inputs& x,
          const Options& o) { return tg::reshape(x[0], o.at("shape").get<tg::Shape>()); }},
      {"flatten",
       [](const Inputs& x,
          const Options& o) { return tg::flatten(x[0], o.at("start_dim"), o.at("end_dim")); }},
      {"transpose",
       [](const Inputs& x,
          const Options& o) { return tg::transpose(x[0], o.at("dim0"), o.at("dim1")); }},
      {"t", [](const Inputs& x, const Options&) { return tg::t(x[0]); }},
      {"narrow",
       [](const Inputs& x,
          const Options&
              o) { return tg::narrow(x[0], o.at("dim"), o.at("start"), o.at("length")); }},
      {"slice",
       [](const Inputs& x,
          const Options&
              o) { return tg::slice(x[0], o.at("dim"), o.at("start"), o.at("end"), o.at("step")); }},
      {"index_select",
       [](const Inputs& x, const Options& o) { return tg::index_select(x[0], o.at("dim"), x[1]); }},
      {"gather",
       [](const Inputs& x, const Options& o) { return tg::gather(x[0], o.at("dim"), x[1]); }},
      {"cat", [](const Inputs& x, const Options& o) { return tg::cat(x, o.at("dim")); }},
      {"stack", [](const Inputs& x, const Options& o) { return tg::stack(x, o.at("dim")); }},
      {"matmul", [](const Inputs& x, const Options&) { return tg::matmul(x[0], x[1]); }},
      {"bmm", [](const Inputs& x, const Options&) { return tg::bmm(x[0], x[1]); }},
      {"matmul_t",
       [](const Inputs& x, const Options& o) {
         return tg::matmul(x[0], x[1],
                           {.transpose_a = o.at("transpose_a"), .transpose_b = o.at("transpose_b")});
       }},
      {"tril", [](const Inputs& x, const Options& o) { return tg::tril(x[0], o.at("diagonal")); }},
      {"triu", [](const Inputs& x, const Options& o) { return tg::triu(x[0], o.at("diagonal")); }},
      {"linear",
       [](const Inputs& x,
          const Options&) { return tg::linear(x[0], x[1], x.size() > 2 ? x[2] : tg::Tensor()); }},
  };
  return table;
}

}  // namespace

// The indices an op with values and indices gives, for the cases that hold torch's.
static tg::Tensor indices_of(const Options& o, const tg::Tensor& x) {
  const std::string op = o.at("op");
  if (op == "max_dim") return tg::max(x, o.at("dim"), o.at("keepdim")).second;
  if (op == "min_dim") return tg::min(x, o.at("dim"), o.at("keepdim")).second;
  if (op == "sort") return tg::argsort(x, o.at("dim"), o.at("descending"));
  if (op == "topk") return tg::topk(x, o.at("k"), o.at("dim"), o.at("largest")).second;
  FAIL("no indices for op ", op);
  return {};
}

// Every case of one reference file through the table; max / min along a dim, sort and topk
// also give torch's indices.
static void check_file(const char* file, std::size_t at_least) {
  torch_data::check_table(file, ops(), at_least, [](const nlohmann::json& c, const Inputs& in) {
    if (!c.contains("indices")) return;
    const tg::Tensor idx = indices_of(c.at("options"), in[0]);
    CHECK(idx.to_vector<std::int64_t>() == c.at("indices").get<std::vector<std::int64_t>>());
  });
}

TEST_CASE(
    "elementwise ops: torch 1.13's outputs and gradients (tests/reference/elementwise.json)") {
  check_file("elementwise.json", 90);
}

TEST_CASE(
    "shape ops and products: torch 1.13's outputs and gradients (tests/reference/shape.json)") {
  check_file("shape.json", 70);
}

TEST_CASE("reductions: torch 1.13's outputs and gradients (tests/reference/reduce.json)") {
  check_file("reduce.json", 120);
}
