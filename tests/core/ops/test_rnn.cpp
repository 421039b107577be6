// rnn_layer: finite-difference gradients of every mode, both directions, with and without
// lengths; a padded sequence equal to the same sequence alone; one tape entry per layer; errors.
#include <doctest/doctest.h>

#include "../helpers.h"

namespace {

const tg::RNNMode kModes[] = {tg::RNNMode::Tanh, tg::RNNMode::Relu, tg::RNNMode::LSTM,
                              tg::RNNMode::GRU};

// float64 weights for mode from input size I to hidden size H, leaves that require grad.
tg::RNNWeights weights(tg::RNNMode mode, std::int64_t I, std::int64_t H, bool bias,
                       std::uint64_t seed) {
  const std::int64_t GH = tg::rnn_gate_count(mode) * H;
  tg::RNNWeights w;
  w.w_ih = leaf({GH, I}, seed);
  w.w_hh = leaf({GH, H}, seed + 1);
  if (bias) {
    w.b_ih = leaf({GH}, seed + 2);
    w.b_hh = leaf({GH}, seed + 3);
  }
  return w;
}

// Everything rnn_layer returns in one tensor, for gradcheck's single output.
tg::Tensor all_of(const tg::RNNLayerResult& r) {
  std::vector<tg::Tensor> parts{r.output.reshape({-1}), r.h_n.reshape({-1})};
  if (r.c_n.defined()) parts.push_back(r.c_n.reshape({-1}));
  return tg::cat(parts, 0);
}

}  // namespace

TEST_CASE("rnn_layer: gradients of every mode match finite differences") {
  for (const tg::RNNMode mode : kModes)
    for (const bool reverse : {false, true})
      for (const bool padded : {false, true}) {
        const bool lstm = mode == tg::RNNMode::LSTM;
        INFO("mode " << static_cast<int>(mode) << (reverse ? ", reverse" : "")
                     << (padded ? ", lengths {4, 1, 3}" : ""));
        const tg::RNNWeights w = weights(mode, 3, 2, !padded || mode == tg::RNNMode::GRU, 20);
        const tg::Tensor x = leaf({4, 3, 3}, 31), h0 = leaf({3, 2}, 32);
        const tg::Tensor c0 = lstm ? leaf({3, 2}, 33) : tg::Tensor();
        const std::vector<std::int64_t> lengths =
            padded ? std::vector<std::int64_t>{4, 1, 3} : std::vector<std::int64_t>{};
        std::vector<tg::Tensor> inputs{x, h0, w.w_ih, w.w_hh};
        if (lstm) inputs.push_back(c0);
        if (w.b_ih.defined()) inputs.insert(inputs.end(), {w.b_ih, w.b_hh});
        check_gradient([&] { return all_of(tg::rnn_layer(mode, x, h0, c0, w, lengths, reverse)); },
                       inputs);
      }
}

TEST_CASE("rnn_layer: a padded sequence gives what the sequence alone gives") {
  const std::vector<std::int64_t> lengths{2, 5, 3};
  for (const tg::RNNMode mode : kModes)
    for (const bool reverse : {false, true}) {
      INFO("mode " << static_cast<int>(mode) << (reverse ? ", reverse" : ""));
      const bool lstm = mode == tg::RNNMode::LSTM;
      const tg::RNNWeights w = weights(mode, 2, 3, true, 40);
      const tg::Tensor x = leaf({5, 3, 2}, 41), h0 = leaf({3, 3}, 42);
      const tg::Tensor c0 = lstm ? leaf({3, 3}, 43) : tg::Tensor();
      const tg::RNNLayerResult all = tg::rnn_layer(mode, x, h0, c0, w, lengths, reverse);
      for (std::int64_t b = 0; b < 3; ++b) {
        auto row = [&](const tg::Tensor& t) { return tg::narrow(t, 0, b, 1); };
        const tg::RNNLayerResult one =
            tg::rnn_layer(mode, tg::narrow(tg::narrow(x, 1, b, 1), 0, 0, lengths[b]), row(h0),
                          lstm ? row(c0) : tg::Tensor(), w, {}, reverse);
        const tg::Tensor out = tg::narrow(all.output, 1, b, 1);
        check_values(tg::narrow(out, 0, 0, lengths[b]), one.output.to_vector<double>(), 1e-15);
        check_values(tg::narrow(out, 0, lengths[b], 5 - lengths[b]),
                     std::vector<double>((5 - lengths[b]) * 3, 0.0), 0);
        check_values(row(all.h_n), one.h_n.to_vector<double>(), 1e-15);
        if (lstm) check_values(row(all.c_n), one.c_n.to_vector<double>(), 1e-15);
      }
    }
}

TEST_CASE("rnn_layer: one tape entry runs the whole sequence, none without grad") {
  const tg::RNNWeights w = weights(tg::RNNMode::GRU, 2, 3, true, 50);
  const tg::Tensor x = leaf({7, 2, 2}, 51);
  const std::size_t before = tg::tape_stats().entries;
  const tg::RNNLayerResult r = tg::rnn_layer(tg::RNNMode::GRU, x, {}, {}, w);
  // the layer, then narrowing its packed result into output and h_n (a reshape records too)
  CHECK(tg::tape_stats().entries - before <= 5);
  {
    tg::NoGradGuard off;
    const std::size_t quiet = tg::tape_stats().entries;
    const tg::RNNLayerResult q = tg::rnn_layer(tg::RNNMode::GRU, x, {}, {}, w);
    CHECK(tg::tape_stats().entries == quiet);
    check_values(q.output, r.output.to_vector<double>(), 0);
  }
}

TEST_CASE("rnn_layer: float32 runs in float32 and agrees with float64") {
  const tg::RNNWeights w = weights(tg::RNNMode::LSTM, 3, 4, true, 60);
  const tg::Tensor x = leaf({6, 2, 3}, 61);
  const tg::RNNLayerResult d = tg::rnn_layer(tg::RNNMode::LSTM, x, {}, {}, w, {2, 6}, true);
  tg::RNNWeights f{w.w_ih.to(tg::kFloat32), w.w_hh.to(tg::kFloat32), w.b_ih.to(tg::kFloat32),
                   w.b_hh.to(tg::kFloat32)};
  const tg::RNNLayerResult s =
      tg::rnn_layer(tg::RNNMode::LSTM, x.to(tg::kFloat32), {}, {}, f, {2, 6}, true);
  CHECK(s.output.dtype() == tg::kFloat32);
  check_values(s.output, d.output.to_vector<double>(), 1e-6);
  check_values(s.c_n, d.c_n.to_vector<double>(), 1e-6);
}

TEST_CASE("rnn_layer: bad operands are named") {
  const tg::RNNWeights w = weights(tg::RNNMode::LSTM, 3, 4, true, 70);
  const tg::Tensor x = leaf({5, 2, 3}, 71);
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::LSTM, x.reshape({10, 3}), {}, {}, w),
                       doctest::Contains("lstm"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::GRU, x, {}, {}, w),
                       doctest::Contains("gru: w_hh must be [12, 4]: got [16, 4]"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::LSTM, leaf({5, 2, 2}), {}, {}, w),
                       doctest::Contains("lstm: w_ih must be [16, 2]: got [16, 3]"),
                       tg::ShapeError);
  tg::RNNWeights half = w;
  half.b_hh = tg::Tensor();
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::LSTM, x, {}, {}, half), doctest::Contains("both"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::LSTM, x, leaf({3, 4}), {}, w),
                       doctest::Contains("lstm: h0 must be [2, 4]: got [3, 4]"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::Tanh, x, {}, leaf({2, 4}),
                                     weights(tg::RNNMode::Tanh, 3, 4, false, 1)),
                       doctest::Contains("rnn_tanh: c0 is for an LSTM only"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::LSTM, x, {}, {}, w, {0, 5}),
                       doctest::Contains("lstm: length 0 of sequence 0 is outside [1, 5]"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::rnn_layer(tg::RNNMode::LSTM, x.to(tg::kFloat32), {}, {}, w),
                       doctest::Contains("lstm: w_hh is float64 but x is float32"), tg::ValueError);
}
