// MultiheadAttention: torch's numbers (tests/reference/attention.json: self and cross attention,
// key padding, boolean, causal and float masks, averaged and per-head weights, unbatched),
// names and init, batch_first, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "../core/helpers.h"
#include "../torch_data.h"

TEST_CASE("MultiheadAttention matches torch: output, weights and every gradient") {
  const nlohmann::json all = torch_data::cases("attention.json");
  int n = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const nlohmann::json& c = all[i];
    if (c.value("module", "") != "MultiheadAttention") continue;
    ++n;
    INFO("attention.json case " << i << ": " << c.at("config").dump());
    const nlohmann::json& config = c.at("config");
    tg::nn::MultiheadAttentionOptions o;
    o.bias = config.at("bias");
    o.batch_first = config.at("batch_first");
    tg::nn::MultiheadAttention m(config.at("embed_dim"), config.at("num_heads"), o);
    m.to(tg::kFloat64);
    const tg::nn::StateDict state = torch_data::state_dict(c.at("params"));
    m.load_state_dict(state);
    const auto named = m.named_parameters();
    REQUIRE(named.size() == state.size());
    for (std::size_t k = 0; k < named.size(); ++k) CHECK(named[k].first == state[k].first);
    auto leaf_of = [&](const char* key) {
      tg::Tensor t = torch_data::tensor(c.at(key));
      if (t.defined()) t.requires_grad_();
      return t;
    };
    const tg::Tensor query = leaf_of("query");
    const bool self = c.at("self");
    const tg::Tensor key = self ? query : leaf_of("key"), value = self ? query : leaf_of("value");
    tg::nn::AttentionCall call;
    call.key_padding_mask = torch_data::tensor(c.at("key_padding_mask"));
    call.attn_mask = torch_data::tensor(c.at("attn_mask"));
    call.need_weights = c.at("need_weights");
    call.average_attn_weights = c.at("average_attn_weights");
    const tg::nn::AttentionOutput r = m(query, key, value, call);
    torch_data::check_parity_values(r.output, torch_data::tensor(c.at("output")));
    CHECK(r.output.shape() == torch_data::tensor(c.at("output")).shape());
    tg::Tensor loss = (r.output * torch_data::tensor(c.at("mix_output"))).sum();
    REQUIRE(r.weights.defined() == call.need_weights);
    if (call.need_weights) {
      CHECK(r.weights.shape() == torch_data::tensor(c.at("weights")).shape());
      torch_data::check_parity_values(r.weights, torch_data::tensor(c.at("weights")));
      loss = loss + (r.weights * torch_data::tensor(c.at("mix_weights"))).sum();
    }
    loss.backward();
    torch_data::check_parity_values(query.grad(), torch_data::tensor(c.at("grad_query")));
    if (!self) {
      torch_data::check_parity_values(key.grad(), torch_data::tensor(c.at("grad_key")));
      torch_data::check_parity_values(value.grad(), torch_data::tensor(c.at("grad_value")));
    }
    torch_data::check_param_grads(named, c.at("grads"));
  }
  CHECK(n == 5);
}

TEST_CASE("MultiheadAttention: torch's names and init, batch_first, the Sequential form") {
  tg::Generator gen(2);
  tg::nn::MultiheadAttention m(8, 2, {}, &gen);
  const auto named = m.named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "in_proj_weight");
  CHECK(named[0].second.shape() == tg::Shape{24, 8});
  CHECK(named[1].first == "in_proj_bias");
  CHECK(named[2].first == "out_proj.weight");
  CHECK(named[3].first == "out_proj.bias");
  CHECK(named[1].second.abs().max().item() == 0);
  CHECK(named[3].second.abs().max().item() == 0);
  const double xavier = std::sqrt(6.0 / (8 + 24));
  CHECK(named[0].second.abs().max().item() <= xavier);
  CHECK(named[0].second.abs().max().item() > 0.9 * xavier);
  std::ostringstream s;
  s << m;
  CHECK(s.str().find("MultiheadAttention(embed_dim=8, num_heads=2") == 0);

  m.to(tg::kFloat64);
  tg::nn::MultiheadAttention bf(8, 2, {.batch_first = true});
  bf.to(tg::kFloat64);
  bf.load_state_dict(m.state_dict());
  const tg::Tensor x = leaf({5, 3, 8}, 4);
  const tg::nn::AttentionOutput a = m(x, x, x);
  const tg::Tensor xb = x.transpose(0, 1);
  const tg::nn::AttentionOutput b = bf(xb, xb, xb);
  check_values(b.output.transpose(0, 1), a.output.to_vector<double>(), 1e-14);
  check_values(b.weights, a.weights.to_vector<double>(), 1e-14);
  check_values(m(x), a.output.to_vector<double>(), 1e-14);  // self-attention, output alone
}

TEST_CASE("MultiheadAttention: gradients match finite differences, masks included") {
  tg::Generator gen(5);
  tg::nn::MultiheadAttention m(4, 2, {}, &gen);
  m.to(tg::kFloat64);
  const tg::Tensor q = leaf({3, 2, 4}, 6), kv = leaf({4, 2, 4}, 7);
  tg::nn::AttentionCall call;
  call.key_padding_mask =
      tg::from_vector(std::vector<std::int64_t>{0, 0, 0, 1, 1, 0, 0, 0}, {2, 4});
  call.attn_mask =
      tg::from_vector(std::vector<std::int64_t>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {3, 4});
  std::vector<tg::Tensor> inputs{q, kv};
  for (const tg::Tensor& p : m.parameters()) inputs.push_back(p);
  check_gradient(
      [&] {
        const tg::nn::AttentionOutput r = m(q, kv, kv, call);
        return tg::cat({r.output.reshape({-1}), r.weights.reshape({-1})}, 0);
      },
      inputs);
}

TEST_CASE("MultiheadAttention: wrong shapes and options are named") {
  CHECK_THROWS_WITH_AS(
      tg::nn::MultiheadAttention(6, 4),
      doctest::Contains("embed_dim (6) must be a positive multiple of num_heads (4)"),
      tg::ValueError);
  tg::nn::MultiheadAttention m(4, 2);
  const tg::Tensor x = tg::zeros({3, 2, 4});
  CHECK_THROWS_WITH_AS(m(tg::zeros({3, 2, 5})), doctest::Contains("must be (L, N, 4)"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(m(x, tg::zeros({3, 1, 4}), tg::zeros({3, 1, 4})),
                       doctest::Contains("query's 2 batch elements"), tg::ShapeError);
  tg::nn::AttentionCall call;
  call.key_padding_mask = tg::zeros({2, 4});
  CHECK_THROWS_WITH_AS(m(x, x, x, call), doctest::Contains("key_padding_mask must be [2, 3]"),
                       tg::ShapeError);
  call.key_padding_mask = tg::Tensor();
  call.attn_mask = tg::zeros({3, 4});
  CHECK_THROWS_WITH_AS(m(x, x, x, call), doctest::Contains("attn_mask must be [3, 3] or [4, 3, 3]"),
                       tg::ShapeError);
}
