// scaled_dot_product_attention: torch's numbers, finite differences (masks, causal, dropout with
// a fixed generator, the weights as an output), a row shut out entirely, and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "../../torch_data.h"
#include "../helpers.h"

namespace {

// The output, and the weights after it when asked, as one flat tensor (torch's cases store so).
tg::Tensor flat(const tg::AttentionResult& r) {
  if (!r.weights.defined()) return r.output;
  return tg::cat({r.output.reshape({-1}), r.weights.reshape({-1})}, 0);
}

}  // namespace

TEST_CASE("scaled_dot_product_attention matches torch: masks, causal, scale, weights") {
  const nlohmann::json all = torch_data::cases("attention.json");
  int n = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const nlohmann::json& c = all[i];
    if (!c.contains("options") || c.at("options").at("op") != "sdpa") continue;
    ++n;
    INFO("attention.json case " << i << ": " << c.at("options").dump());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    tg::AttentionOptions o;
    o.attn_mask = in[3];
    o.is_causal = c.at("options").at("causal");
    o.need_weights = c.at("options").at("need_weights");
    if (!c.at("options").at("scale").is_null()) o.scale = c.at("options").at("scale").get<double>();
    torch_data::check_parity(c, in, flat(tg::scaled_dot_product_attention(in[0], in[1], in[2], o)));
  }
  CHECK(n == 4);
}

TEST_CASE("scaled_dot_product_attention: gradients match finite differences") {
  const tg::Tensor q = leaf({2, 3, 4}, 1), k = leaf({2, 5, 4}, 2), v = leaf({2, 5, 3}, 3);
  tg::Generator draw(11);
  // Keys shut out here and there, never a causal row's first key (that row would be all -inf).
  const tg::Tensor mask = tg::masked_fill(
      tg::randn({3, 5}, {.dtype = tg::kFloat64}, &draw),
      tg::from_vector(std::vector<std::int64_t>{0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
                      {3, 5}),
      -std::numeric_limits<double>::infinity());
  for (const bool causal : {false, true})
    for (const bool weights : {false, true})
      for (const double p : {0.0, 0.4}) {
        INFO((causal ? "causal " : "") << (weights ? "with weights " : "") << "dropout " << p);
        check_gradient(
            [&] {
              tg::Generator gen(77);  // the same dropout draws at every evaluation
              tg::AttentionOptions o;
              o.attn_mask = mask;
              o.is_causal = causal;
              o.need_weights = weights;
              o.dropout_p = p;
              o.gen = &gen;
              return flat(tg::scaled_dot_product_attention(q, k, v, o));
            },
            {q, k, v});
      }
}

TEST_CASE("scaled_dot_product_attention: dropout's weights are the ones the output used") {
  const tg::Tensor q = leaf({4, 6, 3}, 4), k = leaf({4, 7, 3}, 5), v = leaf({4, 7, 2}, 6);
  tg::Generator gen(3);
  tg::AttentionOptions o;
  o.dropout_p = 0.5;
  o.need_weights = true;
  o.gen = &gen;
  const tg::AttentionResult r = tg::scaled_dot_product_attention(q, k, v, o);
  check_values(r.output, tg::matmul(r.weights, v).to_vector<double>(), 1e-14);
  const std::vector<double> w = r.weights.to_vector<double>();
  const auto zeros = std::count(w.begin(), w.end(), 0.0);
  CHECK(zeros > 40);  // about half of 168
  CHECK(zeros < 128);
  // Without dropout the same call is softmax(q k^T / sqrt(3)) v.
  const tg::AttentionResult plain = tg::scaled_dot_product_attention(q, k, v);
  const tg::Tensor want =
      tg::matmul(tg::softmax(tg::matmul(q, k, {.transpose_b = true}) / std::sqrt(3.0), -1), v);
  check_values(plain.output, want.to_vector<double>(), 1e-14);
}

TEST_CASE("scaled_dot_product_attention: a query with every key shut out gives NaN") {
  const tg::Tensor q = leaf({2, 3}, 7), k = leaf({3, 3}, 8), v = leaf({3, 2}, 9);
  tg::Tensor mask = tg::zeros({2, 3}, {.dtype = tg::kFloat64});
  mask = tg::masked_fill(mask, tg::from_vector(std::vector<std::int64_t>{0, 0, 0, 1, 1, 1}, {2, 3}),
                         -std::numeric_limits<double>::infinity());
  tg::AttentionOptions o;
  o.attn_mask = mask;
  const std::vector<double> y =
      tg::scaled_dot_product_attention(q, k, v, o).output.to_vector<double>();
  CHECK(std::isfinite(y[0]));
  CHECK(std::isnan(y[2]));  // torch 1.13's softmax of an all -inf row
}

TEST_CASE("scaled_dot_product_attention: no keys give zeros, no features uniform weights") {
  const tg::Tensor none =
      tg::scaled_dot_product_attention(leaf({2, 3, 4}), leaf({2, 0, 4}), leaf({2, 0, 5})).output;
  CHECK(none.shape() == tg::Shape{2, 3, 5});
  check_values(none, std::vector<double>(30, 0.0), 0);
  const tg::Tensor v = leaf({2, 3, 5}, 12);
  const tg::Tensor flat_scores =
      tg::scaled_dot_product_attention(leaf({2, 4, 0}), leaf({2, 3, 0}), v).output;
  const tg::Tensor mean_v = tg::mean(v, 1, true).expand({2, 4, 5});  // torch: uniform weights
  check_values(flat_scores, mean_v.to_vector<double>(), 1e-15);
}

TEST_CASE("scaled_dot_product_attention: bad operands are named") {
  const tg::Tensor q = leaf({2, 3, 4}), k = leaf({2, 5, 4}), v = leaf({2, 5, 3});
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, leaf({2, 5, 3}), v),
                       doctest::Contains("expected (..., L, E), (..., S, E)"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, leaf({3, 5, 4}), v),
                       doctest::Contains("same batch dims"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, k.reshape({10, 4}), v),
                       doctest::Contains("same rank"), tg::ShapeError);
  tg::AttentionOptions o;
  o.attn_mask = tg::zeros({3, 4}, {.dtype = tg::kFloat64});
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, k, v, o),
                       doctest::Contains("attn_mask must be [3, 5] or [2, 3, 5]: got [3, 4]"),
                       tg::ShapeError);
  o.attn_mask = tg::zeros({3, 5}, {.dtype = tg::kInt64});
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, k, v, o),
                       doctest::Contains("additive float mask"), tg::ValueError);
  o.attn_mask = leaf({3, 5});
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, k, v, o),
                       doctest::Contains("no gradient"), tg::ValueError);
  o.attn_mask = tg::Tensor();
  o.dropout_p = 1.5;
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, k, v, o), doctest::Contains("dropout_p"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::scaled_dot_product_attention(q, k, v.to(tg::kFloat32)),
                       doctest::Contains("q is float64 but k or v is float32"), tg::ValueError);
}

namespace {

// (L, N, H * E) or (N, L, H * E) -> (N, H, L, E): the heads split out, as a reference.
tg::Tensor split_heads(const tg::Tensor& x, std::int64_t H, bool batch_first) {
  const tg::Tensor nl = batch_first ? x : tg::transpose(x, 0, 1);  // (N, L, H * E)
  return tg::transpose(nl.reshape({nl.size(0), nl.size(1), H, -1}), 1, 2);
}

// (N, H, L, Ev) -> the layout multi_head_attention gives back.
tg::Tensor join_heads(const tg::Tensor& y, bool batch_first) {
  const tg::Tensor nl = tg::transpose(y, 1, 2);
  const tg::Tensor joined = nl.reshape({nl.size(0), nl.size(1), -1});
  return batch_first ? joined : tg::transpose(joined, 0, 1);
}

}  // namespace

TEST_CASE("multi_head_attention: the heads read in place give the split heads' numbers") {
  const std::int64_t N = 2, H = 3, L = 4, S = 5, E = 2, Ev = 3;
  // Additive noise, and a fifth of the keys shut out, never key 0 (a causal first row keeps it).
  tg::Generator draw(21);
  std::vector<double> m(static_cast<std::size_t>(N * H * L * S));
  for (std::size_t i = 0; i < m.size(); ++i)
    m[i] = static_cast<std::int64_t>(i) % S > 0 && draw.uniform() < 0.2
               ? -std::numeric_limits<double>::infinity()
               : draw.normal();
  const tg::Tensor mask = tg::from_vector(m, {N, H, L, S});
  for (const bool batch_first : {false, true}) {
    INFO("batch_first " << batch_first);
    auto shape = [&](std::int64_t T, std::int64_t width) {
      return batch_first ? tg::Shape{N, T, H * width} : tg::Shape{T, N, H * width};
    };
    const tg::Tensor q = leaf(shape(L, E), 31), k = leaf(shape(S, E), 32),
                     v = leaf(shape(S, Ev), 33);
    for (const bool causal : {false, true}) {
      tg::AttentionOptions o;
      o.attn_mask = mask;
      o.is_causal = causal;
      o.need_weights = true;
      const tg::AttentionResult got =
          tg::multi_head_attention(q, k, v, {.num_heads = H, .batch_first = batch_first}, o);
      const tg::AttentionResult want = tg::scaled_dot_product_attention(
          split_heads(q, H, batch_first), split_heads(k, H, batch_first),
          split_heads(v, H, batch_first), o);
      CHECK(got.output.shape() == shape(L, Ev));
      CHECK(got.weights.shape() == tg::Shape{N, H, L, S});
      check_values(got.output, join_heads(want.output, batch_first).to_vector<double>(), 1e-14);
      check_values(got.weights, want.weights.to_vector<double>(), 1e-14);
    }
    tg::AttentionOptions o;
    o.attn_mask = tg::narrow(tg::narrow(mask, 0, 0, 1), 1, 0, 1).reshape({L, S});  // (L, S)
    o.need_weights = true;
    check_gradient(
        [&] {
          return flat(
              tg::multi_head_attention(q, k, v, {.num_heads = H, .batch_first = batch_first}, o));
        },
        {q, k, v});
  }
  const tg::Tensor x = tg::zeros({4, 2, 6});
  CHECK_THROWS_WITH_AS(tg::multi_head_attention(x, x, x, {.num_heads = 4}),
                       doctest::Contains("in 4 heads"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::multi_head_attention(x, tg::zeros({4, 3, 6}), x, {.num_heads = 2}),
                       doctest::Contains("(L, N, H * E), (S, N, H * E)"), tg::ShapeError);
}

TEST_CASE("scaled_dot_product_attention: weights below 4x the smallest normal number are 0") {
  // Scores 0, -50, -85, -87, -95 and -200 (float32): e^-95 = 5.5e-42 is subnormal, which would
  // cost every product of the weights a microcode assist, and e^-87 = 1.6e-38 is within 4x of
  // the smallest normal number, where exp() itself computes through subnormals. Both are 0, as
  // is every lower one; e^-50 and e^-85 are kept. A NaN score still makes its row NaN.
  const tg::Tensor q = tg::ones({1, 1, 1});
  const tg::Tensor k = tg::from_vector(std::vector<float>{0, -50, -85, -87, -95, -200}, {1, 6, 1});
  const tg::Tensor v = tg::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {1, 6, 1});
  tg::AttentionOptions o;
  o.scale = 1.0;
  o.need_weights = true;
  const tg::Tensor q1 = q.clone().requires_grad_();
  const tg::AttentionResult r = tg::scaled_dot_product_attention(q1, k, v, o);
  const std::vector<float> w = r.weights.to_vector<float>();
  CHECK(w[0] == 1.0f);
  CHECK(w[1] / std::exp(-50.0) == doctest::Approx(1).epsilon(1e-5));
  CHECK(w[2] / std::exp(-85.0) == doctest::Approx(1).epsilon(1e-5));
  CHECK(w[3] == 0.0f);
  CHECK(w[4] == 0.0f);
  CHECK(w[5] == 0.0f);
  // The gradient's scores go through the same flush: finite, and 0 where the weight is.
  r.output.sum().backward();
  CHECK(std::isfinite(q1.grad().item()));

  const tg::Tensor kn = tg::from_vector(std::vector<float>{0, -50, std::nanf(""), -95}, {1, 4, 1});
  for (const float x :
       tg::scaled_dot_product_attention(q, kn, v.narrow(1, 0, 4), o).weights.to_vector<float>())
    CHECK(std::isnan(x));
}

TEST_CASE_TEMPLATE("scaled_dot_product_attention: the flush in vector bodies and tails", T, float,
                   double) {
  // 37 keys: whole SIMD vectors and a scalar tail. Scores 0, -1, ..., with a weight just above
  // the cut (e^(ln min + 8), kept) and one below it (e^(ln min + 0.5), 0) in both the body and
  // the tail, and -inf from the mask in both; then a NaN score in the body, and in the tail.
  const T lmin = std::log(std::numeric_limits<T>::min());
  const std::int64_t S = 37;
  std::vector<T> score(S), mask(S, T(0));
  for (std::int64_t j = 0; j < S; ++j) score[j] = -T(j % 7);
  score[3] = score[34] = lmin + 8;
  score[5] = score[35] = lmin + T(0.5);
  mask[9] = mask[36] = -std::numeric_limits<T>::infinity();
  double sum = 0;
  for (std::int64_t j = 0; j < S; ++j)
    if (j != 5 && j != 35 && j != 9 && j != 36) sum += std::exp(double(score[j]));
  const tg::Tensor q = tg::from_vector(std::vector<T>{1}, {1, 1, 1});
  const tg::Tensor v = tg::ones({1, S, 1}).to(q.dtype());
  tg::AttentionOptions o;
  o.scale = 1.0;
  o.need_weights = true;
  o.attn_mask = tg::from_vector(mask, {1, S});
  const std::vector<T> w =
      tg::scaled_dot_product_attention(q, tg::from_vector(score, {1, S, 1}), v, o)
          .weights.template to_vector<T>();
  for (std::int64_t j = 0; j < S; ++j) {
    CAPTURE(j);
    if (j == 5 || j == 35 || j == 9 || j == 36)
      CHECK(w[j] == T(0));
    else
      CHECK(w[j] / (std::exp(double(score[j])) / sum) == doctest::Approx(1).epsilon(1e-5));
  }
  for (const std::int64_t at : {std::int64_t{20}, std::int64_t{33}, std::int64_t{36}}) {
    std::vector<T> nan_score = score;
    nan_score[at] = std::numeric_limits<T>::quiet_NaN();
    tg::AttentionOptions plain = o;
    plain.attn_mask = tg::Tensor();
    for (const T x :
         tg::scaled_dot_product_attention(q, tg::from_vector(nan_score, {1, S, 1}), v, plain)
             .weights.template to_vector<T>())
      CHECK(std::isnan(x));
  }
}
