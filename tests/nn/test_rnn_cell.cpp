// RNNCell, LSTMCell and GRUCell: torch's numbers (tests/reference/rnn.json), names and init,
// the unbatched form, a step of the cell equal to a step of the sequence module, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "../core/helpers.h"
#include "rnn_reference.h"

TEST_CASE("RNNCell, LSTMCell and GRUCell match torch: new state and every gradient") {
  const int n = rnn_reference::check_cases(
      [](const std::string& m) { return m == "RNNCell" || m == "LSTMCell" || m == "GRUCell"; },
      [](const nlohmann::json& c, const tg::nn::StateDict& state, std::vector<tg::Tensor>& params,
         const tg::Tensor& x, const tg::Tensor& h0, const tg::Tensor& c0) {
        const std::string module = c.at("module");
        const nlohmann::json& config = c.at("config");
        const std::int64_t in = config.at("input_size"), hidden = config.at("hidden_size");
        const bool bias = config.at("bias");
        auto load = [&](tg::nn::Module& m) {
          m.to(tg::kFloat64);
          m.load_state_dict(state);
          for (const auto& p : m.named_parameters()) params.push_back(p.second);
        };
        if (module == "LSTMCell") {
          tg::nn::LSTMCell cell(in, hidden, bias);
          load(cell);
          const tg::nn::RNNState s = cell(x, {h0, c0});
          return rnn_reference::Outputs{s.h, {}, s.c};
        }
        if (module == "GRUCell") {
          tg::nn::GRUCell cell(in, hidden, bias);
          load(cell);
          return rnn_reference::Outputs{cell(x, h0), {}, {}};
        }
        const auto nl = config.at("nonlinearity") == "relu" ? tg::nn::Nonlinearity::ReLU
                                                            : tg::nn::Nonlinearity::Tanh;
        tg::nn::RNNCell cell(in, hidden, bias, nl);
        load(cell);
        return rnn_reference::Outputs{cell(x, h0), {}, {}};
      });
  CHECK(n == 6);
}

TEST_CASE("LSTMCell: torch's names, init range, and a step equal to LSTM's") {
  tg::Generator gen(4);
  tg::nn::LSTMCell cell(3, 5, true, &gen);
  const auto named = cell.named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "weight_ih");
  CHECK(named[0].second.shape() == tg::Shape{20, 3});
  CHECK(named[3].first == "bias_hh");
  const double bound = 1 / std::sqrt(5.0);
  for (const auto& p : named) CHECK(p.second.abs().max().item() <= bound);
  tg::nn::LSTM lstm(3, 5);
  tg::nn::StateDict renamed;
  for (const auto& p : cell.state_dict()) renamed.emplace_back(p.first + "_l0", p.second);
  lstm.load_state_dict(renamed);
  const tg::Tensor x = tg::randn({2, 3}, {}, &gen), h = tg::randn({2, 5}, {}, &gen),
                   c = tg::randn({2, 5}, {}, &gen);
  const tg::nn::RNNState s = cell(x, {h, c});
  const tg::nn::RNNResult r = lstm(x.unsqueeze(0), {h.unsqueeze(0), c.unsqueeze(0)});
  check_values(s.h, r.h_n.to_vector<double>(), 0);
  check_values(s.c, r.c_n.to_vector<double>(), 0);
  check_values(cell(x), cell(x, {}).h.to_vector<double>(), 0);  // a zero state by default
  // One sample alone: a product of other sizes, so float32's last bits may differ.
  const tg::nn::RNNState one = cell(tg::narrow(x, 0, 1, 1).squeeze(0), {});
  CHECK(one.h.shape() == tg::Shape{5});
  check_values(one.h, tg::narrow(cell(x), 0, 1, 1).to_vector<double>(), 1e-6);
  std::ostringstream out;
  out << tg::nn::RNNCell(2, 3, false, tg::nn::Nonlinearity::ReLU);
  CHECK(out.str() == "RNNCell(2, 3, bias=False, nonlinearity=relu)");
}

TEST_CASE("RNNCell, LSTMCell and GRUCell: wrong shapes are named") {
  tg::nn::GRUCell gru(3, 4);
  CHECK_THROWS_WITH_AS(gru(tg::zeros({2, 5})), doctest::Contains("GRUCell: x must be (B, 3)"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(gru(tg::zeros({2, 3}), tg::zeros({3, 4})),
                       doctest::Contains("GRUCell: h must be [2, 4]: got [3, 4]"), tg::ShapeError);
  tg::nn::LSTMCell lstm(3, 4);
  CHECK_THROWS_WITH_AS(lstm(tg::zeros({3}), {tg::zeros({4}), tg::zeros({2, 4})}),
                       doctest::Contains("LSTMCell: c must be [4]"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::nn::RNNCell(3, 0), doctest::Contains("RNNCell: input_size"),
                       tg::ValueError);
}

TEST_CASE("RNNCell, LSTMCell and GRUCell: gradients match finite differences") {
  tg::Generator gen(6);
  tg::nn::RNNCell rnn(3, 2, true, tg::nn::Nonlinearity::Tanh, &gen);
  tg::nn::LSTMCell lstm(3, 2, true, &gen);
  tg::nn::GRUCell gru(3, 2, false, &gen);
  const tg::Tensor x = leaf({2, 3}, 21), h = leaf({2, 2}, 22), c = leaf({2, 2}, 23);
  auto with_params = [](tg::nn::Module& m, std::vector<tg::Tensor> inputs) {
    m.to(tg::kFloat64);
    for (const tg::Tensor& p : m.parameters()) inputs.push_back(p);
    return inputs;
  };
  check_gradient([&] { return rnn(x, h); }, with_params(rnn, {x, h}));
  check_gradient([&] { return gru(x, h); }, with_params(gru, {x, h}));
  check_gradient(
      [&] {
        const tg::nn::RNNState s = lstm(x, {h, c});
        return tg::cat({s.h, s.c}, 1);
      },
      with_params(lstm, {x, h, c}));
}
