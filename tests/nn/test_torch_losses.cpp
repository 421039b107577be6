// Every loss and reduction against torch 1.13's own values and gradients (input's and, where
// torch computes one, target's), at the parity tolerance: tests/reference/losses.json, written
// by scripts/gen_torch_reference.py.
#include <functional>
#include <map>

#include "../torch_data.h"

namespace nn = tapegrad::nn;
namespace F = tapegrad::nn::functional;

namespace {

using Inputs = std::vector<tg::Tensor>;
using Options = nlohmann::json;

nn::Reduction reduction(const Options& o) {
  const std::string r = o.at("reduction");
  if (r == "mean") return nn::Reduction::Mean;
  if (r == "sum") return nn::Reduction::Sum;
  if (r == "none") return nn::Reduction::None;
  REQUIRE(r == "batchmean");
  return nn::Reduction::BatchMean;
}

const torch_data::OpTable& losses() {
  static const torch_data::OpTable table = {
      {"mse_loss",
       [](const Inputs& x, const Options& o) { return F::mse_loss(x[0], x[1], reduction(o)); }},
      {"l1_loss",
       [](const Inputs& x, const Options& o) { return F::l1_loss(x[0], x[1], reduction(o)); }},
      {"huber_loss",
       [](const Inputs& x, const Options& o) {
         return F::huber_loss(x[0], x[1], reduction(o), o.at("delta"));
       }},
      {"smooth_l1_loss",
       [](const Inputs& x, const Options& o) {
         return F::smooth_l1_loss(x[0], x[1], reduction(o), o.at("beta"));
       }},
      {"cross_entropy",
       [](const Inputs& x, const Options& o) {
         return F::cross_entropy(x[0], x[1], reduction(o));
       }},
      {"nll_loss",
       [](const Inputs& x, const Options& o) { return F::nll_loss(x[0], x[1], reduction(o)); }},
      {"binary_cross_entropy",
       [](const Inputs& x, const Options& o) {
         return F::binary_cross_entropy(x[0], x[1], reduction(o));
       }},
      {"binary_cross_entropy_with_logits",
       [](const Inputs& x, const Options& o) {
         return F::binary_cross_entropy_with_logits(x[0], x[1], reduction(o));
       }},
      {"binary_cross_entropy_w",
       [](const Inputs& x, const Options& o) {
         return F::binary_cross_entropy(x[0], x[1], reduction(o), x[2]);
       }},
      {"binary_cross_entropy_with_logits_w",
       [](const Inputs& x, const Options& o) {
         return F::binary_cross_entropy_with_logits(x[0], x[1], reduction(o), x[2]);
       }},
      {"binary_cross_entropy_with_logits_pw",
       [](const Inputs& x, const Options& o) {
         return F::binary_cross_entropy_with_logits(x[0], x[1], reduction(o), tg::Tensor(), x[2]);
       }},
      {"binary_cross_entropy_with_logits_w_pw",
       [](const Inputs& x, const Options& o) {
         return F::binary_cross_entropy_with_logits(x[0], x[1], reduction(o), x[2], x[3]);
       }},
      {"cross_entropy_opts",
       [](const Inputs& x, const Options& o) {
         F::CrossEntropyOptions opts;
         opts.reduction = reduction(o);
         opts.weight = x.size() > 2 ? x[2] : tg::Tensor();
         opts.ignore_index = o.at("ignore_index");
         opts.label_smoothing = o.at("label_smoothing");
         return F::cross_entropy(x[0], x[1], opts);
       }},
      {"nll_loss_opts",
       [](const Inputs& x, const Options& o) {
         F::NLLLossOptions opts;
         opts.reduction = reduction(o);
         opts.weight = x.size() > 2 ? x[2] : tg::Tensor();
         opts.ignore_index = o.at("ignore_index");
         return F::nll_loss(x[0], x[1], opts);
       }},
      {"kl_div",
       [](const Inputs& x, const Options& o) {
         return F::kl_div(x[0], x[1], reduction(o), o.at("log_target"));
       }},
  };
  return table;
}

}  // namespace

TEST_CASE(
    "losses: torch 1.13's values and gradients for every reduction (tests/reference/losses.json)") {
  torch_data::check_table("losses.json", losses(), 175);
}
