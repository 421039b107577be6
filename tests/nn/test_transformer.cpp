// TransformerEncoderLayer and TransformerEncoder: torch's numbers (tests/reference/
// transformer.json: both norm orders, relu and gelu, masks, a final norm), names, the copies'
// starting parameters, and dropout's training switch.
#include <doctest/doctest.h>

#include "../core/helpers.h"
#include "../torch_data.h"

namespace {

tg::nn::TransformerEncoderLayerOptions options_of(const nlohmann::json& config) {
  tg::nn::TransformerEncoderLayerOptions o;
  o.dim_feedforward = config.at("dim_feedforward");
  o.dropout = 0;
  o.activation = config.at("activation") == "gelu" ? tg::nn::TransformerActivation::GELU
                                                   : tg::nn::TransformerActivation::ReLU;
  o.batch_first = config.at("batch_first");
  o.norm_first = config.at("norm_first");
  return o;
}

}  // namespace

TEST_CASE("TransformerEncoderLayer and TransformerEncoder match torch: output and gradients") {
  const nlohmann::json all = torch_data::cases("transformer.json");
  REQUIRE(all.size() == 4);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const nlohmann::json& c = all[i];
    const nlohmann::json& config = c.at("config");
    INFO("transformer.json case " << i << ": " << c.at("module") << " " << config.dump());
    std::unique_ptr<tg::nn::Module> owned;
    tg::nn::Module* m = nullptr;
    std::unique_ptr<tg::nn::TransformerEncoderLayer> single;
    if (c.at("module") == "TransformerEncoderLayer") {
      single = std::make_unique<tg::nn::TransformerEncoderLayer>(
          config.at("d_model"), config.at("nhead"), options_of(config));
      m = single.get();
    } else {
      std::shared_ptr<tg::nn::Module> norm;
      if (config.at("final_norm"))
        norm = std::make_shared<tg::nn::LayerNorm>(
            tg::Shape{config.at("d_model").get<std::int64_t>()});
      const tg::nn::TransformerEncoderLayer layer(config.at("d_model"), config.at("nhead"),
                                                  options_of(config));
      owned = std::make_unique<tg::nn::TransformerEncoder>(layer, config.at("num_layers"), norm);
      m = owned.get();
    }
    m->to(tg::kFloat64);
    const tg::nn::StateDict state = torch_data::state_dict(c.at("params"));
    m->load_state_dict(state);
    const auto named = m->named_parameters();
    REQUIRE(named.size() == state.size());
    for (std::size_t k = 0; k < named.size(); ++k) CHECK(named[k].first == state[k].first);
    tg::Tensor src = torch_data::tensor(c.at("src"));
    src.requires_grad_();
    const tg::Tensor mask = torch_data::tensor(c.at("mask")),
                     pad = torch_data::tensor(c.at("src_key_padding_mask"));
    const tg::Tensor out = single ? (*single)(src, mask, pad)
                                  : static_cast<tg::nn::TransformerEncoder&>(*m)(src, mask, pad);
    torch_data::check_parity_values(out, torch_data::tensor(c.at("output")));
    (out * torch_data::tensor(c.at("mix"))).sum().backward();
    torch_data::check_parity_values(src.grad(), torch_data::tensor(c.at("grad_src")));
    torch_data::check_param_grads(named, c.at("grads"));
  }
}

TEST_CASE("TransformerEncoder: every layer starts as the given one, dropout only in training") {
  tg::Generator gen(3);
  tg::nn::TransformerEncoderLayerOptions o;
  o.dim_feedforward = 12;
  o.dropout = 0.5;
  const tg::nn::TransformerEncoderLayer layer(8, 2, o, &gen);
  tg::nn::TransformerEncoder enc(layer, 3);
  const auto named = enc.named_parameters();
  REQUIRE(named.size() == 36);
  CHECK(named[0].first == "layers.0.self_attn.in_proj_weight");
  CHECK(named[35].first == "layers.2.norm2.bias");
  const auto first = layer.named_parameters();
  for (std::size_t k = 0; k < named.size(); ++k)
    check_values(named[k].second, first[k % 12].second.to_vector<double>(), 0);
  const tg::Tensor x = tg::randn({4, 2, 8}, {}, &gen);
  enc.eval();
  const tg::Tensor a = enc(x), b = enc(x);
  check_values(a, b.to_vector<double>(), 0);  // no dropout in evaluation
  enc.train();
  CHECK((enc(x) - a).abs().max().item() > 1e-3);
  CHECK_THROWS_WITH_AS(tg::nn::TransformerEncoder(layer, 0), doctest::Contains("num_layers"),
                       tg::ValueError);
}

TEST_CASE("a tiny Transformer language model follows torch's 20-step Adam trajectory") {
  const nlohmann::json c = torch_data::cases("transformer_lm.json").at(0);
  tg::nn::Embedding tok(7, 8), pos(6, 8);
  tg::nn::TransformerEncoderLayerOptions o;
  o.dim_feedforward = 16;
  o.dropout = 0;
  o.activation = tg::nn::TransformerActivation::GELU;
  o.batch_first = true;
  o.norm_first = true;
  tg::nn::TransformerEncoder encoder(tg::nn::TransformerEncoderLayer(8, 2, o), 2,
                                     std::make_shared<tg::nn::LayerNorm>(tg::Shape{8}));
  tg::nn::Linear head(8, 7);
  std::vector<std::pair<std::string, tg::Tensor>> named;
  for (const auto& m : {std::pair<const char*, tg::nn::Module*>{"tok.", &tok},
                        {"pos.", &pos},
                        {"encoder.", &encoder},
                        {"head.", &head}}) {
    m.second->to(tg::kFloat64);
    for (const auto& p : m.second->named_parameters())
      named.emplace_back(m.first + p.first, p.second);
  }
  REQUIRE(named.size() == c.at("params").size());
  std::vector<tg::Tensor> params;
  {
    tg::NoGradGuard off;
    for (std::size_t k = 0; k < named.size(); ++k) {
      const std::string want = c.at("params")[k].at("name").get<std::string>();
      CHECK(named[k].first == want);
      named[k].second.copy_(torch_data::tensor(c.at("params")[k].at("value")));
      params.push_back(named[k].second);
    }
  }
  tg::optim::Adam opt(params, {.lr = 0.02});
  const tg::Tensor causal = tg::triu(
      tg::full({6, 6}, -std::numeric_limits<double>::infinity(), {.dtype = tg::kFloat64}), 1);
  const tg::Tensor positions = tg::arange(std::int64_t{6}, {.dtype = tg::kInt64});
  for (const auto& step : c.at("steps")) {
    const tg::Tensor h = tok(torch_data::tensor(step.at("x"))) + pos(positions);
    const tg::Tensor logits = head(encoder(h, causal));
    const tg::Tensor loss = tg::nn::functional::cross_entropy(
        logits.reshape({-1, 7}), torch_data::tensor(step.at("y")).reshape({-1}));
    const double want = step.at("loss");
    CHECK(std::abs(loss.item() - want) <= 1e-9 * std::abs(want));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  for (std::size_t k = 0; k < params.size(); ++k) {
    INFO(named[k].first);
    torch_data::check_parity_values(params[k], torch_data::tensor(c.at("final")[k].at("value")));
  }
}

TEST_CASE("TransformerEncoderLayer: gradients match finite differences, masks included") {
  tg::Generator gen(9);
  tg::nn::TransformerEncoderLayerOptions o;
  o.dim_feedforward = 6;
  o.dropout = 0;
  o.activation = tg::nn::TransformerActivation::GELU;
  o.batch_first = true;
  for (const bool norm_first : {false, true}) {
    INFO("norm_first " << norm_first);
    o.norm_first = norm_first;
    tg::nn::TransformerEncoderLayer m(4, 2, o, &gen);
    m.to(tg::kFloat64);
    const tg::Tensor src = leaf({2, 3, 4}, 12);
    const tg::Tensor causal = tg::triu(tg::ones({3, 3}, {.dtype = tg::kInt64}), 1);
    const tg::Tensor pad = tg::from_vector(std::vector<std::int64_t>{0, 0, 1, 0, 0, 0}, {2, 3});
    std::vector<tg::Tensor> inputs{src};
    for (const tg::Tensor& p : m.parameters()) inputs.push_back(p);
    check_gradient([&] { return m(src, causal, pad); }, inputs);
  }
}
