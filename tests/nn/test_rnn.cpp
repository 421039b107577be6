// RNN, LSTM and GRU: torch's numbers (tests/reference/rnn.json), parameter names and init,
// batch_first and unbatched layouts, dropout between layers, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "../core/helpers.h"
#include "rnn_reference.h"

namespace {

tg::nn::RNNOptions options_of(const nlohmann::json& config) {
  tg::nn::RNNOptions o;
  o.num_layers = config.at("num_layers");
  o.bias = config.at("bias");
  o.batch_first = config.at("batch_first");
  o.bidirectional = config.at("bidirectional");
  if (config.value("nonlinearity", "tanh") == "relu") o.nonlinearity = tg::nn::Nonlinearity::ReLU;
  return o;
}

std::unique_ptr<tg::nn::RNNBase> make(const std::string& module, const nlohmann::json& config,
                                      tg::Generator* gen = nullptr) {
  const std::int64_t in = config.at("input_size"), hidden = config.at("hidden_size");
  const tg::nn::RNNOptions o = options_of(config);
  if (module == "LSTM") return std::make_unique<tg::nn::LSTM>(in, hidden, o, gen);
  if (module == "GRU") return std::make_unique<tg::nn::GRU>(in, hidden, o, gen);
  return std::make_unique<tg::nn::RNN>(in, hidden, o, gen);
}

}  // namespace

TEST_CASE("RNN, LSTM and GRU match torch: outputs, final states and every gradient") {
  const int n = rnn_reference::check_cases(
      [](const std::string& m) { return m == "RNN" || m == "LSTM" || m == "GRU"; },
      [](const nlohmann::json& c, const tg::nn::StateDict& state, std::vector<tg::Tensor>& params,
         const tg::Tensor& x, const tg::Tensor& h0, const tg::Tensor& c0) {
        auto m = make(c.at("module"), c.at("config"));
        m->to(tg::kFloat64);
        m->load_state_dict(state);
        const auto named = m->named_parameters();
        REQUIRE(named.size() == state.size());
        for (std::size_t k = 0; k < named.size(); ++k) {
          CHECK(named[k].first == state[k].first);
          params.push_back(named[k].second);
        }
        const auto lengths = c.at("lengths").is_null()
                                 ? std::vector<std::int64_t>{}
                                 : c.at("lengths").get<std::vector<std::int64_t>>();
        const tg::nn::RNNResult r = (*m)(x, {h0, c0}, lengths);
        return rnn_reference::Outputs{r.output, r.h_n, r.c_n};
      });
  CHECK(n == 10);
}

TEST_CASE("LSTM in float32 matches torch's float64 numbers to float precision") {
  const nlohmann::json c = torch_data::cases("rnn.json").at(5);  // two layers, both ways, lengths
  REQUIRE(c.at("module").get<std::string>() == "LSTM");
  auto m = make("LSTM", c.at("config"));
  m->load_state_dict(torch_data::state_dict(c.at("params"), tg::kFloat32));
  const auto lengths = c.at("lengths").get<std::vector<std::int64_t>>();
  const tg::nn::RNNResult r = (*m)(torch_data::tensor(c.at("x")).to(tg::kFloat32),
                                   {torch_data::tensor(c.at("h0")).to(tg::kFloat32),
                                    torch_data::tensor(c.at("c0")).to(tg::kFloat32)},
                                   lengths);
  CHECK(r.output.dtype() == tg::kFloat32);
  check_values(r.output, torch_data::tensor(c.at("output")).to_vector<double>(), 1e-5);
  check_values(r.h_n, torch_data::tensor(c.at("h_n")).to_vector<double>(), 1e-5);
  check_values(r.c_n, torch_data::tensor(c.at("c_n")).to_vector<double>(), 1e-5);
}

TEST_CASE("LSTM: torch's parameter names, shapes and initial range") {
  tg::Generator gen(3);
  tg::nn::RNNOptions o;
  o.num_layers = 2;
  o.bidirectional = true;
  tg::nn::LSTM lstm(5, 7, o, &gen);
  const auto named = lstm.named_parameters();
  REQUIRE(named.size() == 16);
  CHECK(named[0].first == "weight_ih_l0");
  CHECK(named[0].second.shape() == tg::Shape{28, 5});
  CHECK(named[5].first == "weight_hh_l0_reverse");
  CHECK(named[5].second.shape() == tg::Shape{28, 7});
  CHECK(named[8].first == "weight_ih_l1");
  CHECK(named[8].second.shape() == tg::Shape{28, 14});  // reads both directions of layer 0
  CHECK(named[15].first == "bias_hh_l1_reverse");
  const double bound = 1 / std::sqrt(7.0);
  double lo = 1, hi = -1;
  for (const auto& p : named)
    for (double v : p.second.to_vector<double>()) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(lo < -0.9 * bound);  // the whole range is used
  CHECK(hi > 0.9 * bound);
  tg::nn::GRU gru(3, 4, {.bias = false});
  CHECK(gru.named_parameters().size() == 2);
  CHECK(gru.named_parameters()[1].second.shape() == tg::Shape{12, 4});
  std::ostringstream s;
  s << lstm;
  CHECK(s.str() == "LSTM(5, 7, num_layers=2, bidirectional=True)");
}

TEST_CASE("GRU: batch_first and unbatched input give the time-first numbers") {
  tg::Generator gen(5);
  tg::nn::RNNOptions o;
  o.num_layers = 2;
  o.bidirectional = true;
  tg::nn::GRU time_first(3, 4, o, &gen);
  o.batch_first = true;
  tg::nn::GRU batch_first(3, 4, o);
  time_first.to(tg::kFloat64);
  batch_first.to(tg::kFloat64);
  batch_first.load_state_dict(time_first.state_dict());
  const tg::Tensor x = leaf({5, 2, 3}, 11);
  const tg::nn::RNNResult a = time_first(x, {});
  const tg::nn::RNNResult b = batch_first(x.transpose(0, 1), {});
  CHECK(b.output.shape() == tg::Shape{2, 5, 8});
  check_values(b.output.transpose(0, 1), a.output.to_vector<double>(), 0);
  check_values(b.h_n, a.h_n.to_vector<double>(), 0);
  // One sequence without a batch dim is the batch of it alone.
  const tg::Tensor one = tg::narrow(x, 1, 1, 1).squeeze(1).detach();
  const tg::nn::RNNResult u = time_first(one, {});
  CHECK(u.output.shape() == tg::Shape{5, 8});
  CHECK(u.h_n.shape() == tg::Shape{4, 4});
  check_values(u.output, tg::narrow(a.output, 1, 1, 1).to_vector<double>(), 1e-15);
  CHECK(time_first(x).shape() == tg::Shape{5, 2, 8});  // the Sequential form: output alone
}

TEST_CASE("LSTM: dropout acts between layers in training only") {
  tg::Generator gen(8);
  tg::nn::RNNOptions o;
  o.num_layers = 2;
  o.dropout = 1;  // every output of layer 0 dropped: layer 1 then reads zeros
  tg::nn::LSTM lstm(3, 4, o, &gen);
  lstm.to(tg::kFloat64);
  const tg::Tensor x = leaf({4, 2, 3}, 2);
  const tg::Tensor zeros = tg::zeros({4, 2, 4}, {.dtype = tg::kFloat64});
  const tg::Tensor want = tg::rnn_layer(tg::RNNMode::LSTM, zeros, {}, {}, lstm.weights(1)).output;
  check_values(lstm(x), want.to_vector<double>(), 0);
  lstm.eval();
  const tg::Tensor first = tg::rnn_layer(tg::RNNMode::LSTM, x, {}, {}, lstm.weights(0)).output;
  const tg::Tensor second = tg::rnn_layer(tg::RNNMode::LSTM, first, {}, {}, lstm.weights(1)).output;
  check_values(lstm(x), second.to_vector<double>(), 0);
}

TEST_CASE("RNN, LSTM and GRU: wrong shapes and options are named") {
  CHECK_THROWS_WITH_AS(tg::nn::LSTM(0, 3), doctest::Contains("LSTM: input_size"), tg::ValueError);
  tg::nn::RNNOptions relu;
  relu.nonlinearity = tg::nn::Nonlinearity::ReLU;
  CHECK_THROWS_WITH_AS(tg::nn::GRU(2, 3, relu), doctest::Contains("Elman"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::nn::RNN(2, 3, {.dropout = 1.5}), doctest::Contains("dropout"),
                       tg::ValueError);
  tg::nn::LSTM lstm(3, 4, {.num_layers = 2});
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 2, 4})),
                       doctest::Contains("LSTM: x has 4 features per step, input_size is 3"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 2, 3, 1})), doctest::Contains("x must be"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 2, 3}), {tg::zeros({1, 2, 4}), {}}),
                       doctest::Contains("h0 must be [2, 2, 4]: got [1, 2, 4]"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 2, 3}), {}, {5, 6}),
                       doctest::Contains("length 6 of sequence 1 is outside [1, 5]"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({5, 2, 3}), {}, {5}), doctest::Contains("1 lengths"),
                       tg::ShapeError);
  tg::nn::GRU gru(3, 4);
  CHECK_THROWS_WITH_AS(gru(tg::zeros({5, 2, 3}), {{}, tg::zeros({1, 2, 4})}),
                       doctest::Contains("LSTM's only"), tg::ValueError);
  CHECK_THROWS_WITH_AS(gru(tg::zeros({5, 2, 3}, {.dtype = tg::kFloat64})),
                       doctest::Contains("gru: w_hh is float32 but x is float64"), tg::ValueError);
}

TEST_CASE("LSTM trains in a Sequential: a copy task's loss falls") {
  tg::manual_seed(4);
  tg::nn::Sequential model(tg::nn::LSTM(2, 8, {.batch_first = true}), tg::nn::Linear(8, 2));
  tg::optim::Adam opt(model.parameters(), {.lr = 0.05});
  tg::Generator gen(9);
  const tg::Tensor x = tg::randn({4, 6, 2}, {}, &gen);
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    const tg::Tensor loss = tg::nn::functional::mse_loss(model(x), x);
    if (step == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  CHECK(last < 0.1 * first);
}

TEST_CASE("LSTM, GRU and RNN: gradients through two bidirectional layers match differences") {
  for (const char* module : {"LSTM", "GRU", "RNN"}) {
    INFO(module);
    tg::Generator gen(12);
    const nlohmann::json config = {{"input_size", 2},     {"hidden_size", 2},
                                   {"num_layers", 2},     {"bias", true},
                                   {"batch_first", true}, {"bidirectional", true}};
    auto m = make(module, config, &gen);
    m->to(tg::kFloat64);
    const bool lstm = std::string(module) == "LSTM";
    const tg::Tensor x = leaf({2, 3, 2}, 13), h0 = leaf({4, 2, 2}, 14);
    const tg::Tensor c0 = lstm ? leaf({4, 2, 2}, 15) : tg::Tensor();
    std::vector<tg::Tensor> inputs{x, h0};
    if (lstm) inputs.push_back(c0);
    for (const tg::Tensor& p : m->parameters()) inputs.push_back(p);
    check_gradient(
        [&] {
          const tg::nn::RNNResult r = (*m)(x, {h0, c0}, {3, 2});
          std::vector<tg::Tensor> parts{r.output.reshape({-1}), r.h_n.reshape({-1})};
          if (lstm) parts.push_back(r.c_n.reshape({-1}));
          return tg::cat(parts, 0);
        },
        inputs);
  }
}

TEST_CASE("A tiny LSTM language model follows torch's 20-step Adam trajectory") {
  const nlohmann::json c = torch_data::cases("rnn_lm.json").at(0);
  tg::nn::Embedding embed(7, 4);
  tg::nn::LSTM lstm(4, 5, {.num_layers = 2});
  tg::nn::Linear head(5, 7);
  std::vector<std::pair<std::string, tg::Tensor>> named;
  for (const auto& m : {std::pair<const char*, tg::nn::Module*>{"embed.", &embed},
                        {"lstm.", &lstm},
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
      CHECK(named[k].first == c.at("params")[k].at("name").get<std::string>());
      named[k].second.copy_(torch_data::tensor(c.at("params")[k].at("value")));
      params.push_back(named[k].second);
    }
  }
  tg::optim::Adam opt(params, {.lr = 0.02});
  for (const auto& step : c.at("steps")) {
    const tg::Tensor logits = head(lstm(embed(torch_data::tensor(step.at("x")))));
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
