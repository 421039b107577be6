// create_graph through the indexing ops (gather, index_select, embedding, sort, topk, pad), the
// extrema, the statistics and norms, every loss, attention and the recurrent layers: each passes
// gradgradcheck, its first-order gradient equals the fast kernel's to rounding, and its first
// and second derivatives are torch's (tests/reference/double_backward_ops.json: 37 cases).
#include <limits>
#include <map>
#include <thread>

#include "torch_second_order.h"

namespace {

namespace F = tg::nn::functional;
using tg::Tensor;

Tensor int64s(std::vector<std::int64_t> values, const tg::Shape& shape) {
  return tg::from_vector(values, shape);
}
Tensor f64s(std::vector<double> values, const tg::Shape& shape) {
  return tg::from_vector(values, shape, {.dtype = tg::kFloat64});
}

// One recurrent layer's loss over its whole result (outputs, h_n and, for an LSTM, c_n).
Tensor rnn_loss(tg::RNNMode mode, const std::vector<Tensor>& in, bool bias,
                const std::vector<std::int64_t>& lengths, bool reverse) {
  const bool lstm = mode == tg::RNNMode::LSTM;
  const std::size_t nb = lstm ? 5 : 4;
  const tg::RNNWeights w{in[1], in[2], bias ? in[nb] : Tensor(), bias ? in[nb + 1] : Tensor()};
  const tg::RNNLayerResult r =
      tg::rnn_layer(mode, in[0], in[3], lstm ? in[4] : Tensor(), w, lengths, reverse);
  Tensor loss = tg::sum(tg::square(r.output)) + tg::sum(tg::sin(r.h_n));
  if (lstm) loss = loss + tg::sum(r.c_n * r.h_n);
  return loss;
}

}  // namespace

TEST_CASE("create_graph: indexing, extrema and statistics pass gradgradcheck") {
  const Tensor a = leaf({3, 4}, 1), b = leaf({3, 4}, 2), x3 = leaf({2, 3, 4}, 3),
               col = leaf({3, 1}, 4), row = leaf({4}, 5), table = leaf({5, 3}, 6),
               img = leaf({1, 2, 3, 4}, 7);
  const Tensor picks = int64s({1, 3, 0, 0, 2, 1}, {3, 2}), rows = int64s({3, 0, 3}, {3}),
               words = int64s({1, 4, 1, 0, 2, 4}, {2, 3});
  const double inf = std::numeric_limits<double>::infinity();
  check_second_order({
      {"gather", [&] { return tg::square(tg::gather(a, 1, picks)); }, {a}},
      {"index_select", [&] { return tg::square(tg::index_select(a, 1, rows)) * 0.5; }, {a}},
      {"embedding", [&] { return tg::square(tg::embedding(words, table)); }, {table}},
      // (scale_grad_by_freq's gradient is not a derivative, so finite differences do not
      // apply; its second derivative is checked against torch's below.)
      {"embedding, padding_idx",
       [&] { return tg::square(tg::embedding(words, table, 4)); },
       {table}},
      {"sort", [&] { return tg::square(tg::sort(x3, 1, true).first) * x3; }, {x3}},
      {"topk", [&] { return tg::square(tg::topk(a, 2, 1).first); }, {a}},
      {"pad, constant, negative",
       [&] {
         return tg::square(tg::pad(x3, {1, -1, 2, 0}, tg::PadMode::Constant, 0.5));
       },
       {x3}},
      {"pad, reflect",
       [&] {
         return tg::square(tg::pad(img, {1, 2, 1, 1}, tg::PadMode::Reflect));
       },
       {img}},
      {"pad, replicate",
       [&] {
         return tg::square(tg::pad(x3, {2, 1}, tg::PadMode::Replicate));
       },
       {x3}},
      {"pad, circular",
       [&] {
         return tg::square(tg::pad(x3, {1, 3}, tg::PadMode::Circular));
       },
       {x3}},
      {"max along a dim", [&] { return tg::square(tg::max(x3, 1).first); }, {x3}},
      {"min along a dim, keepdim", [&] { return tg::square(tg::min(x3, 2, true).first); }, {x3}},
      {"amax",
       [&] {
         return tg::square(tg::amax(x3, {0, 2}));
       },
       {x3}},
      {"amin, keepdim", [&] { return tg::square(tg::amin(x3, 1, true)); }, {x3}},
      {"max", [&] { return tg::square(tg::max(a)); }, {a}},
      {"min", [&] { return tg::square(tg::min(a)) * tg::sum(a); }, {a}},
      {"maximum", [&] { return tg::maximum(a, b) * a; }, {a, b}},
      {"minimum, broadcast", [&] { return tg::square(tg::minimum(col, row)); }, {col, row}},
      {"logsumexp", [&] { return tg::square(tg::logsumexp(x3, 1)); }, {x3}},
      {"logsumexp, keepdim",
       [&] {
         return tg::logsumexp(x3, {0, 2}, true);
       },
       {x3}},
      {"var",
       [&] {
         return tg::square(tg::var(x3, {1, 2}));
       },
       {x3}},
      {"var, population, keepdim", [&] { return tg::var(x3, 2, 0, true) * x3; }, {x3}},
      {"std", [&] { return tg::square(tg::std(x3, 1)); }, {x3}},
      {"norm", [&] { return tg::square(tg::norm(x3, 2, 1)); }, {x3}},
      {"norm, p = 3, everything", [&] { return tg::norm(a, 3); }, {a}},
      {"norm, p = 1",
       [&] {
         return tg::square(tg::norm(x3, 1, {0, 2}));
       },
       {x3}},
      {"norm, p = 0.5", [&] { return tg::norm(x3, 0.5, 2); }, {x3}},
      {"norm, p = inf", [&] { return tg::square(tg::norm(x3, inf, 2, true)); }, {x3}},
  });
}

TEST_CASE("create_graph: to() converts the gradient back, to any order") {
  // float64 -> float32 -> float64 (finite differences do not apply through float32):
  // d/da of sum(2 a u) is 2 u, to float32's rounding.
  const Tensor a = leaf({3, 4}, 1), u = leaf({3, 4}, 2).detach();
  const Tensor y = tg::sum(tg::square(a.to(tg::kFloat32)));
  const Tensor g = tg::grad({y}, {a}, {}, {.create_graph = true})[0];
  CHECK(g.dtype() == tg::kFloat64);
  check_values(g.detach(), (a.detach() * 2.0).to_vector<double>(), 1e-6);
  check_values(tg::grad({tg::sum(g * u)}, {a})[0], (u * 2.0).to_vector<double>(), 1e-6);
}

TEST_CASE("create_graph: ties share the gradient alike on both paths") {
  // Ties: finite differences do not apply (the extreme has no derivative there), but the
  // recorded form must still share g as the fast kernel does.
  const Tensor t = leaf_of({1, 3, 3, 0, -2, -2, -2, 5}, {2, 4});
  const Tensor u = leaf_of({1, 2, 3, 0, -2, 4, -2, 5}, {2, 4});
  const std::vector<SecondOrderCase> ties = {
      {"amax", [&] { return tg::amax(t, 1) * tg::amax(t, 1); }, {t}},
      {"amin",
       [&] {
         return tg::amin(t, {0, 1}) * 3.0;
       },
       {t}},
      {"max", [&] { return tg::max(t) * 2.0; }, {t}},
      {"norm, p = inf", [&] { return tg::norm(t, std::numeric_limits<double>::infinity()); }, {t}},
      {"maximum", [&] { return tg::maximum(t, u) * 2.0; }, {t, u}},
      {"minimum", [&] { return tg::minimum(t, u) * 2.0; }, {t, u}}};
  for (const SecondOrderCase& c : ties) {
    CAPTURE(c.name);
    check_same_first_order(c.fn, c.inputs);
  }
}

TEST_CASE("create_graph: every loss passes gradgradcheck") {
  const Tensor a = leaf({3, 4}, 1), b = leaf({3, 4}, 2), c = leaf({3, 4}, 3);
  const Tensor classes = int64s({3, 0, 2}, {3}), with_ignored = int64s({1, -100, 3}, {3});
  F::NLLLossOptions nll;
  nll.weight = f64s({0.5, 2.0, 1.0, 1.5}, {4});
  const Tensor pos_weight = f64s({0.5, 2.0, 1.0, 3.0}, {4}), weight = f64s({2, 1, 0.5}, {3, 1});
  const Tensor probs = tg::sigmoid(c).detach();
  check_second_order({
      {"l1_loss", [&] { return F::l1_loss(tg::tanh(a), b); }, {a, b}},
      {"huber_loss", [&] { return F::huber_loss(a * a, b, tg::nn::Reduction::Sum, 0.8); }, {a, b}},
      {"smooth_l1_loss",
       [&] { return F::smooth_l1_loss(a * b, c, tg::nn::Reduction::Mean, 0.7); },
       {a, b, c}},
      {"kl_div", [&] { return F::kl_div(tg::log_softmax(a, 1), tg::softmax(b, 1)); }, {a, b}},
      {"kl_div, log_target, none",
       [&] {
         return F::kl_div(tg::log_softmax(a, 1), tg::log_softmax(b, 1), tg::nn::Reduction::None,
                          true);
       },
       {a, b}},
      {"nll_loss", [&] { return F::nll_loss(tg::log_softmax(a * a, 1), classes); }, {a}},
      {"nll_loss, weights, ignored",
       [&] { return F::nll_loss(tg::log_softmax(a * b, 1), with_ignored, nll); },
       {a, b}},
      {"binary_cross_entropy",
       [&] { return F::binary_cross_entropy(tg::sigmoid(a * b), probs); },
       {a, b}},
      {"binary_cross_entropy, weight, none",
       [&] {
         return F::binary_cross_entropy(tg::sigmoid(a), probs, tg::nn::Reduction::None, weight);
       },
       {a}},
      {"binary_cross_entropy_with_logits",
       [&] { return F::binary_cross_entropy_with_logits(a * a, tg::sigmoid(b)); },
       {a, b}},
      {"binary_cross_entropy_with_logits, pos_weight, weight",
       [&] {
         return F::binary_cross_entropy_with_logits(a * b, tg::sigmoid(c), tg::nn::Reduction::Sum,
                                                    weight, pos_weight);
       },
       {a, b, c}},
  });
}

TEST_CASE("create_graph: attention and recurrent layers pass gradgradcheck") {
  const Tensor q = leaf({2, 3, 4}, 1), k = leaf({2, 5, 4}, 2), v = leaf({2, 5, 3}, 3);
  const Tensor mask = f64s({0, -1, 0.5, 0, -std::numeric_limits<double>::infinity(),  //
                            0, 0, 0, 0.2, 0,                                          //
                            1, 0, 0, 0, -0.5},
                           {3, 5});
  // multi_head_attention's heads in place: (L, N, H * E), H = 2.
  const Tensor mq = leaf({3, 2, 4}, 4), mk = leaf({5, 2, 4}, 5), mv = leaf({5, 2, 6}, 6),
               bq = leaf({2, 3, 4}, 7);
  const std::int64_t H = 2;
  std::vector<Tensor> lstm = {leaf({3, 2, 3}, 10), leaf({4 * H, 3}, 11), leaf({4 * H, H}, 12),
                              leaf({2, H}, 13),    leaf({2, H}, 14),     leaf({4 * H}, 15),
                              leaf({4 * H}, 16)};
  std::vector<Tensor> gru = {leaf({3, 2, 3}, 20), leaf({3 * H, 3}, 21), leaf({3 * H, H}, 22),
                             leaf({2, H}, 23),    leaf({3 * H}, 24),    leaf({3 * H}, 25)};
  std::vector<Tensor> elman = {leaf({4, 2, 3}, 30), leaf({H, 3}, 31), leaf({H, H}, 32),
                               leaf({2, H}, 33)};
  check_second_order({
      {"scaled_dot_product_attention",
       [&] { return tg::square(tg::scaled_dot_product_attention(q, k, v).output); },
       {q, k, v}},
      {"scaled_dot_product_attention, mask, scale, weights",
       [&] {
         tg::AttentionOptions o;
         o.attn_mask = mask;
         o.scale = 0.7;
         o.need_weights = true;
         const tg::AttentionResult r = tg::scaled_dot_product_attention(q, k, v, o);
         return tg::sum(tg::square(r.output)) + tg::sum(tg::sin(r.weights));
       },
       {q, k, v}},
      {"scaled_dot_product_attention, causal, dropout",
       [&] {
         tg::Generator gen(3);  // the same dropout draws every call
         tg::AttentionOptions o;
         o.is_causal = true;
         o.dropout_p = 0.3;
         o.gen = &gen;
         return tg::square(tg::scaled_dot_product_attention(q, k, v, o).output);
       },
       {q, k, v}},
      {"multi_head_attention",
       [&] { return tg::square(tg::multi_head_attention(mq, mk, mv, {.num_heads = 2}).output); },
       {mq, mk, mv}},
      {"multi_head_attention, batch first, weights",
       [&] {
         tg::AttentionOptions o;
         o.need_weights = true;
         const tg::AttentionResult r =
             tg::multi_head_attention(bq, bq * 0.5, bq, {.num_heads = 2, .batch_first = true}, o);
         return tg::sum(tg::square(r.output)) + tg::sum(tg::square(r.weights));
       },
       {bq}},
      {"lstm, lengths",
       [&] {
         return rnn_loss(tg::RNNMode::LSTM, lstm, true, {3, 2}, false);
       },
       lstm},
      {"gru, reverse", [&] { return rnn_loss(tg::RNNMode::GRU, gru, true, {}, true); }, gru},
      {"gru, reverse, lengths",
       [&] {
         return rnn_loss(tg::RNNMode::GRU, gru, true, {1, 3}, true);
       },
       gru},
      {"rnn tanh, no bias", [&] { return rnn_loss(tg::RNNMode::Tanh, elman, false, {}, false); },
       elman},
  });
}

TEST_CASE(
    "create_graph: the indexing, extrema, statistics, losses, attention and rnn ops give "
    "torch's first and second derivatives") {
  using Fn = SecondOrderFn;
  const Tensor classes = int64s({3, 0, 2}, {3});
  auto rnn = [](tg::RNNMode mode, bool reverse, std::vector<std::int64_t> lengths) -> Fn {
    return [=](const auto& in) {
      const bool lstm = mode == tg::RNNMode::LSTM;
      const tg::RNNLayerResult r =
          tg::rnn_layer(mode, in[0], in[3], lstm ? in[4] : Tensor(),
                        {in[1], in[2], in[lstm ? 5 : 4], in[lstm ? 6 : 5]}, lengths, reverse);
      Tensor loss = tg::sum(tg::square(r.output)) + tg::sum(tg::sin(r.h_n));
      if (lstm) loss = loss + tg::sum(r.c_n * r.h_n);
      return loss;
    };
  };
  const std::map<std::string, Fn> ops = {
      {"gather",
       [](const auto& in) {
         return tg::square(tg::gather(in[0], 1, int64s({1, 3, 0, 0, 2, 1}, {3, 2})));
       }},
      {"index_select",
       [](const auto& in) {
         return tg::square(tg::index_select(in[0], 1, int64s({3, 0, 3}, {3})));
       }},
      {"embedding",
       [](const auto& in) {
         return tg::square(
             tg::embedding(int64s({1, 4, 1, 0, 2, 4}, {2, 3}), in[0], 4, std::nullopt, 2, true));
       }},
      {"sort", [](const auto& in) { return tg::square(tg::sort(in[0], 1, true).first) * in[0]; }},
      {"topk", [](const auto& in) { return tg::square(tg::topk(in[0], 2, 1).first); }},
      {"pad_reflect",
       [](const auto& in) {
         return tg::square(tg::pad(in[0], {1, 2, 1, 1}, tg::PadMode::Reflect));
       }},
      {"pad_circular",
       [](const auto& in) {
         return tg::square(tg::pad(in[0], {1, 3}, tg::PadMode::Circular));
       }},
      {"max_dim", [](const auto& in) { return tg::square(tg::max(in[0], 1).first); }},
      {"amax",
       [](const auto& in) {
         return tg::square(tg::amax(in[0], {0, 2}));
       }},
      {"maximum", [](const auto& in) { return tg::maximum(in[0], in[1]) * in[0]; }},
      {"logsumexp", [](const auto& in) { return tg::square(tg::logsumexp(in[0], 1)); }},
      {"var",
       [](const auto& in) {
         return tg::square(tg::var(in[0], {1, 2}));
       }},
      {"std", [](const auto& in) { return tg::square(tg::std(in[0], 1)); }},
      {"norm", [](const auto& in) { return tg::square(tg::norm(in[0], 2, 1)); }},
      {"norm_p3", [](const auto& in) { return tg::norm(in[0], 3); }},
      {"l1_loss", [](const auto& in) { return F::l1_loss(tg::tanh(in[0]), in[1]); }},
      {"huber_loss",
       [](const auto& in) {
         return F::huber_loss(in[0] * in[0], in[1], tg::nn::Reduction::Sum, 0.8);
       }},
      {"smooth_l1_loss",
       [](const auto& in) {
         return F::smooth_l1_loss(in[0] * in[1], in[2], tg::nn::Reduction::Mean, 0.7);
       }},
      {"kl_div",
       [](const auto& in) { return F::kl_div(tg::log_softmax(in[0], 1), tg::softmax(in[1], 1)); }},
      {"kl_div_log_target",
       [](const auto& in) {
         return F::kl_div(tg::log_softmax(in[0], 1), tg::log_softmax(in[1], 1),
                          tg::nn::Reduction::BatchMean, true);
       }},
      {"nll_loss",
       [&](const auto& in) { return F::nll_loss(tg::log_softmax(in[0] * in[0], 1), classes); }},
      {"binary_cross_entropy",
       [](const auto& in) {
         return F::binary_cross_entropy(tg::sigmoid(in[0] * in[1]), tg::sigmoid(in[1]).detach());
       }},
      {"binary_cross_entropy_with_logits",
       [](const auto& in) {
         return F::binary_cross_entropy_with_logits(in[0] * in[1], tg::sigmoid(in[2]),
                                                    tg::nn::Reduction::Sum, Tensor(),
                                                    f64s({0.5, 2.0, 1.0, 3.0}, {4}));
       }},
      {"scaled_dot_product_attention",
       [](const auto& in) {
         tg::AttentionOptions o;
         o.is_causal = true;
         o.need_weights = true;
         const tg::AttentionResult r = tg::scaled_dot_product_attention(in[0], in[1], in[2], o);
         return tg::sum(tg::square(r.output)) + tg::sum(tg::sin(r.weights));
       }},
      {"lstm", rnn(tg::RNNMode::LSTM, false, {3, 2})},
      {"gru_reverse", rnn(tg::RNNMode::GRU, true, {})},
      {"rnn_tanh", rnn(tg::RNNMode::Tanh, false, {})},
      {"min_dim_keepdim", [](const auto& in) { return tg::square(tg::min(in[0], 2, true).first); }},
      {"amin", [](const auto& in) { return tg::square(tg::amin(in[0], 1)); }},
      {"max_all", [](const auto& in) { return tg::square(tg::max(in[0])) * in[0]; }},
      {"minimum", [](const auto& in) { return tg::square(tg::minimum(in[0], in[1])); }},
      {"pad_constant",
       [](const auto& in) {
         return tg::square(tg::pad(in[0], {1, -1, 2, 0}, tg::PadMode::Constant, 0.5));
       }},
      {"pad_replicate",
       [](const auto& in) {
         return tg::square(tg::pad(in[0], {2, 1}, tg::PadMode::Replicate));
       }},
      {"norm_inf",
       [](const auto& in) {
         return tg::square(tg::norm(in[0], std::numeric_limits<double>::infinity(), 2));
       }},
      {"norm_p1",
       [](const auto& in) {
         return tg::square(tg::norm(in[0], 1, {0, 2}));
       }},
      {"var_population", [](const auto& in) { return tg::var(in[0], 2, 0, true) * in[0]; }},
      {"multi_head_attention",
       [](const auto& in) {
         return tg::square(tg::multi_head_attention(in[0], in[1], in[2], {.num_heads = 2}).output);
       }},
  };
  check_torch_second_order("double_backward_ops.json", ops);
}

TEST_CASE("create_graph: a recurrent layer recorded on another thread differentiates twice") {
  // The forward runs on a thread whose entries are numbered far ahead of this one's: the
  // layer's recorded derivative must still keep its inner pass inside its recomputation.
  const Tensor x = leaf({3, 2, 3}, 40), w_ih = leaf({2, 3}, 41), w_hh = leaf({2, 2}, 42),
               h0_leaf = leaf({2, 2}, 43);
  auto loss_of = [&](int ahead_by) {
    // Entries that move the thread's numbering on (none kept: a chain of 20,000 entries would
    // be freed recursively).
    for (int i = 0; i < ahead_by; ++i) (void)(x * 1.0);
    const Tensor h0 = h0_leaf * 1.0;
    const tg::RNNLayerResult r =
        tg::rnn_layer(tg::RNNMode::Tanh, x, h0, Tensor(), {w_ih, w_hh, Tensor(), Tensor()});
    // Only ops whose recorded derivatives read no tensor of that thread before the layer's
    // (a product's would, and would number this thread's next entries past it).
    return tg::sum(r.output) + tg::sum(h0);
  };
  auto second = [&](const Tensor& loss) {
    const Tensor g = tg::grad({loss}, {w_ih, h0_leaf}, {}, {.create_graph = true})[0];
    return tg::grad({tg::sum(g * g)}, {w_ih})[0];
  };
  const std::vector<double> here = second(loss_of(0)).to_vector<double>();
  Tensor there;
  std::thread t([&] { there = loss_of(20000); });  // its numbers pass this thread's
  t.join();
  check_values(second(there), here, 0);
}

TEST_CASE("create_graph: an attention mask changed in place since is refused by name") {
  const Tensor q = leaf({2, 3, 4}, 1), k = leaf({2, 5, 4}, 2), v = leaf({2, 5, 3}, 3);
  const Tensor mask = tg::zeros({3, 5}, {.dtype = tg::kFloat64});
  tg::AttentionOptions o;
  o.attn_mask = mask;
  const Tensor y = tg::sum(tg::square(tg::scaled_dot_product_attention(q, k, v, o).output));
  mask.fill_(1.0);
  CHECK_THROWS_WITH_AS(tg::grad({y}, {q}, {}, {.create_graph = true}),
                       doctest::Contains("attn_mask was modified in place"), tg::StateError);
  // The first-order pass reads the saved softmax only, as before.
  CHECK(tg::grad({y}, {q})[0].shape() == tg::Shape{2, 3, 4});
}
