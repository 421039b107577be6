// TransformerDecoderLayer and TransformerDecoder: torch's numbers (tests/reference/
// transformer_decoder.json: both norm orders, relu and gelu, every mask, a final norm), names,
// finite differences, the copies' starting parameters and dropout's training switch.
#include <doctest/doctest.h>

#include "../core/helpers.h"
#include "../torch_data.h"

namespace {

tg::nn::TransformerDecoderLayerOptions options_of(const nlohmann::json& config) {
  tg::nn::TransformerDecoderLayerOptions o;
  o.dim_feedforward = config.at("dim_feedforward");
  o.dropout = 0;
  o.activation = config.at("activation") == "gelu" ? tg::nn::TransformerActivation::GELU
                                                   : tg::nn::TransformerActivation::ReLU;
  o.batch_first = config.at("batch_first");
  o.norm_first = config.at("norm_first");
  return o;
}

tg::Tensor mask_of(const nlohmann::json& masks, const char* name) {
  return masks.contains(name) ? torch_data::tensor(masks.at(name)) : tg::Tensor();
}

}  // namespace

TEST_CASE("TransformerDecoderLayer and TransformerDecoder match torch: output and gradients") {
  const nlohmann::json all = torch_data::cases("transformer_decoder.json");
  REQUIRE(all.size() == 4);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const nlohmann::json& c = all[i];
    const nlohmann::json& config = c.at("config");
    INFO("transformer_decoder.json case " << i << ": " << c.at("module") << " " << config.dump());
    const std::int64_t d = config.at("d_model");
    const tg::nn::TransformerDecoderLayer layer(d, config.at("nhead"), options_of(config));
    std::shared_ptr<tg::nn::Module> norm;
    if (config.at("final_norm")) norm = std::make_shared<tg::nn::LayerNorm>(tg::Shape{d});
    std::shared_ptr<tg::nn::TransformerDecoderLayer> single;
    std::shared_ptr<tg::nn::TransformerDecoder> stack;
    tg::nn::Module* m = nullptr;
    if (c.at("module") == "TransformerDecoderLayer")
      m = (single = layer.copy()).get();
    else
      m = (stack =
               std::make_shared<tg::nn::TransformerDecoder>(layer, config.at("num_layers"), norm))
              .get();
    m->to(tg::kFloat64);
    const tg::nn::StateDict state = torch_data::state_dict(c.at("params"));
    m->load_state_dict(state);
    const auto named = m->named_parameters();
    REQUIRE(named.size() == state.size());
    for (std::size_t k = 0; k < named.size(); ++k) CHECK(named[k].first == state[k].first);
    tg::Tensor tgt = torch_data::tensor(c.at("tgt")), memory = torch_data::tensor(c.at("memory"));
    tgt.requires_grad_();
    memory.requires_grad_();
    const nlohmann::json& given = c.at("masks");
    const tg::nn::TransformerDecoderMasks masks{
        .tgt_mask = mask_of(given, "tgt_mask"),
        .memory_mask = mask_of(given, "memory_mask"),
        .tgt_key_padding_mask = mask_of(given, "tgt_key_padding_mask"),
        .memory_key_padding_mask = mask_of(given, "memory_key_padding_mask")};
    const tg::Tensor out = single ? (*single)(tgt, memory, masks) : (*stack)(tgt, memory, masks);
    torch_data::check_parity_values(out, torch_data::tensor(c.at("output")));
    (out * torch_data::tensor(c.at("mix"))).sum().backward();
    torch_data::check_parity_values(tgt.grad(), torch_data::tensor(c.at("grad_tgt")));
    torch_data::check_parity_values(memory.grad(), torch_data::tensor(c.at("grad_memory")));
    torch_data::check_param_grads(named, c.at("grads"));
  }
}

TEST_CASE("TransformerDecoderLayer: gradients match finite differences, masks included") {
  tg::Generator gen(8);
  tg::nn::TransformerDecoderLayerOptions o;
  o.dim_feedforward = 6;
  o.dropout = 0;
  o.activation = tg::nn::TransformerActivation::GELU;
  for (bool norm_first : {false, true}) {
    INFO("norm_first " << norm_first);
    o.norm_first = norm_first;
    tg::nn::TransformerDecoderLayer m(4, 2, o, &gen);
    m.to(tg::kFloat64);
    const tg::Tensor tgt = leaf({3, 2, 4}, 9), memory = leaf({5, 2, 4}, 10);
    const tg::nn::TransformerDecoderMasks masks{
        .tgt_mask = tg::triu(tg::ones({3, 3}, {.dtype = tg::kInt64}), 1),
        .memory_key_padding_mask =
            tg::from_vector(std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 0, 0, 0, 0}, {2, 5})};
    std::vector<tg::Tensor> inputs{tgt, memory};
    for (const tg::Tensor& p : m.parameters()) inputs.push_back(p);
    check_gradient([&] { return m(tgt, memory, masks); }, inputs);
  }
}

TEST_CASE("TransformerDecoder: every layer starts as the given one, dropout only in training") {
  tg::Generator gen(3);
  tg::nn::TransformerDecoderLayerOptions o;
  o.dim_feedforward = 12;
  o.dropout = 0.5;
  o.batch_first = true;
  const tg::nn::TransformerDecoderLayer layer(8, 2, o, &gen);
  tg::nn::TransformerDecoder dec(layer, 2);
  const auto named = dec.named_parameters();
  REQUIRE(named.size() == 36);
  CHECK(named[0].first == "layers.0.self_attn.in_proj_weight");
  CHECK(named[4].first == "layers.0.multihead_attn.in_proj_weight");
  CHECK(named[35].first == "layers.1.norm3.bias");
  const auto first = layer.named_parameters();
  for (std::size_t k = 0; k < named.size(); ++k)
    check_values(named[k].second, first[k % 18].second.to_vector<double>(), 0);
  const tg::Tensor x = tg::randn({2, 3, 8}, {}, &gen), memory = tg::randn({2, 4, 8}, {}, &gen);
  dec.eval();
  const tg::Tensor a = dec(x, memory), b = dec(x, memory);
  check_values(a, b.to_vector<double>(), 0);  // no dropout in evaluation
  dec.train();
  CHECK((dec(x, memory) - a).abs().max().item() > 1e-3);
  CHECK_THROWS_WITH_AS(dec(x), doctest::Contains("needs the memory"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::nn::TransformerDecoder(layer, 0), doctest::Contains("num_layers"),
                       tg::ValueError);
  o.dim_feedforward = 0;
  CHECK_THROWS_WITH_AS(tg::nn::TransformerDecoderLayer(8, 2, o),
                       doctest::Contains("TransformerDecoderLayer: dim_feedforward"),
                       tg::ValueError);
}
