// matmul (torch.matmul's 1-D, 2-D and broadcast N-d forms), bmm, and transpose.
#include "../helpers.h"

TEST_CASE("matmul: values of a 2-D product") {
  tg::Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::kFloat64});
  tg::Tensor b = tg::tensor({1, 0, 0, 1, 1, 1}, {3, 2}, {.dtype = tg::kFloat64});
  tg::Tensor y = tg::matmul(a, b);
  CHECK(y.shape() == tg::Shape{2, 2});
  check_values(y, {4, 5, 10, 11});
}

TEST_CASE("matmul: batched values, with a shared operand broadcast over the batch") {
  tg::Tensor a = tg::arange(12).reshape({2, 2, 3}).to(tg::kFloat64);
  tg::Tensor b = tg::tensor({1, 0, 0, 1, 1, 1}, {3, 2}, {.dtype = tg::kFloat64});
  tg::Tensor y = tg::matmul(a, b);
  CHECK(y.shape() == tg::Shape{2, 2, 2});
  check_values(y, {2, 3, 8, 9, 14, 15, 20, 21});
  tg::Tensor b1 = b.reshape({1, 3, 2});
  check_values(tg::matmul(a, b1), {2, 3, 8, 9, 14, 15, 20, 21});
}

TEST_CASE("matmul: gradient matches finite differences") {
  tg::Tensor a = leaf({3, 4}), b = leaf({4, 5}, 8);
  check_gradient([&] { return tg::matmul(a, b); }, {a, b});
  tg::Tensor ba = leaf({2, 3, 4}, 9), bb = leaf({2, 4, 5}, 10), b1 = leaf({1, 4, 5}, 11);
  check_gradient([&] { return tg::matmul(ba, bb); }, {ba, bb});
  check_gradient([&] { return tg::matmul(ba, b); }, {ba, b});    // 2-D b shared by the batch
  check_gradient([&] { return tg::matmul(a, bb); }, {a, bb});    // 2-D a shared by the batch
  check_gradient([&] { return tg::matmul(ba, b1); }, {ba, b1});  // batch of 1 broadcast
}

TEST_CASE("matmul: mismatched sizes are named with both shapes") {
  CHECK_THROWS_WITH_AS(
      tg::matmul(tg::zeros({64, 784}), tg::zeros({128, 10})),
      doctest::Contains("matmul: [64, 784] x [128, 10]: inner sizes differ (784 vs 128)"),
      tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({2, 3, 4}), tg::zeros({3, 4, 5})),
                       doctest::Contains("batch dims [2] and [3] do not broadcast"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({4}), tg::zeros({5})),
                       doctest::Contains("matmul: [4] x [5]: inner sizes differ (4 vs 5)"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::matmul(tg::scalar_tensor(2), tg::zeros({4})),
                       doctest::Contains("at least one dim"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::bmm(tg::zeros({2, 3, 4}), tg::zeros({4, 5})),
                       doctest::Contains("bmm: [2, 3, 4] x [4, 5]: expects 3-D tensors"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::bmm(tg::zeros({2, 3, 4}), tg::zeros({1, 4, 5})),
                       doctest::Contains("the same batch size"), tg::ShapeError);
}

TEST_CASE("matmul: torch.matmul's 1-D and N-d forms, values and shapes") {
  const tg::Tensor v = tg::tensor({1, 2, 3}), m = tg::arange(0.0, 6.0).reshape({3, 2});
  const tg::Tensor dot = tg::matmul(v, v);
  CHECK(dot.dim() == 0);
  CHECK(dot.item() == 14);
  check_values(tg::matmul(v, m), {16, 22});      // (3)(3, 2) -> (2)
  check_values(tg::matmul(m.t(), v), {16, 22});  // (2, 3)(3) -> (2)
  CHECK(tg::matmul(tg::zeros({5, 1, 2, 3}), tg::zeros({4, 3, 6})).shape() ==
        tg::Shape{5, 4, 2, 6});  // batch dims broadcast
  CHECK(tg::matmul(tg::zeros({4, 2, 3}), v).shape() == tg::Shape{4, 2});
  CHECK(tg::matmul(v, tg::zeros({4, 3, 2})).shape() == tg::Shape{4, 2});
  // An empty inner dim gives zeros, as torch's; an empty batch gives an empty result.
  check_values(tg::matmul(tg::zeros({2, 0}), tg::zeros({0, 3})), {0, 0, 0, 0, 0, 0});
  CHECK(tg::matmul(tg::zeros({0, 2, 3}), tg::zeros({3, 4})).shape() == tg::Shape{0, 2, 4});
  check_values(tg::bmm(tg::ones({2, 1, 3}), tg::ones({2, 3, 1})), {3, 3});
}

TEST_CASE("matmul: N-d and 1-D gradients match finite differences") {
  const tg::Tensor v = leaf({4}, 1), w = leaf({4}, 2);
  check_gradient([&] { return tg::matmul(v, w); }, {v, w});
  const tg::Tensor m = leaf({4, 3}, 3), a = leaf({2, 4}, 4);
  check_gradient([&] { return tg::matmul(v, m); }, {v, m});
  check_gradient([&] { return tg::matmul(a, v); }, {a, v});
  // Batch dims broadcast both ways: each shared matrix gathers the gradient of every use.
  const tg::Tensor x = leaf({2, 1, 3, 4}, 5), y = leaf({5, 4, 2}, 6);
  check_gradient([&] { return tg::matmul(x, y); }, {x, y});
  const tg::Tensor p = leaf({3, 1, 2, 4}, 7), q = leaf({1, 2, 4, 3}, 8);
  check_gradient([&] { return tg::matmul(p, q); }, {p, q});
  const tg::Tensor b3 = leaf({5, 2, 4}, 9);
  check_gradient([&] { return tg::matmul(b3, v); }, {b3, v});
  check_gradient([&] { return tg::matmul(v, leaf({2, 4, 3}, 10)); }, {v});
}

TEST_CASE("transpose/t: values and gradient") {
  tg::Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(tg::t(a), {1, 4, 2, 5, 3, 6});
  CHECK(a.t().shape() == tg::Shape{3, 2});
  tg::Tensor c = tg::arange(24).reshape({2, 3, 4});
  tg::Tensor ct = tg::transpose(c, 0, 2);
  CHECK(ct.shape() == tg::Shape{4, 3, 2});
  CHECK(ct.at({3, 1, 0}) == c.at({0, 1, 3}));
  CHECK(tg::transpose(c, -1, 1).at({1, 3, 2}) == c.at({1, 2, 3}));
  tg::Tensor x = leaf({3, 4}), y = leaf({2, 3, 4}, 8);
  check_gradient([&] { return tg::t(x); }, {x});
  check_gradient([&] { return tg::transpose(y, 0, 2); }, {y});
  check_gradient([&] { return tg::transpose(y, 1, 2); }, {y});
  CHECK_THROWS_WITH_AS(tg::t(y), doctest::Contains("t: expects a 2-D tensor: got shape [2, 3, 4]"),
                       tg::ShapeError);
}

TEST_CASE("linear: values of x w^T + b") {
  tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::kFloat64});
  tg::Tensor w = tg::tensor({1, 0, 1, 0, 1, 0}, {2, 3}, {.dtype = tg::kFloat64});
  tg::Tensor b = tg::tensor({10, 20}, {}, {.dtype = tg::kFloat64});
  check_values(tg::linear(x, w, b), {14, 22, 20, 25});
  check_values(tg::linear(x, w), {4, 2, 10, 5});
  CHECK(tg::linear(tg::zeros({4, 5, 3}, {.dtype = tg::kFloat64}), w, b).shape() ==
        tg::Shape{4, 5, 2});
}

TEST_CASE("linear: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4}), w = leaf({2, 4}, 8), b = leaf({2}, 9), x3 = leaf({2, 3, 4}, 10);
  check_gradient([&] { return tg::linear(x, w, b); }, {x, w, b});
  check_gradient([&] { return tg::linear(x, w); }, {x, w});
  check_gradient([&] { return tg::linear(x3, w, b); }, {x3, w, b});
}

TEST_CASE("linear: rejects mismatched feature sizes") {
  CHECK_THROWS_WITH_AS(tg::linear(tg::zeros({2, 3}), tg::zeros({5, 4}), tg::zeros({5})),
                       doctest::Contains("linear: feature sizes differ: x is [2, 3], w is [5, 4]"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::linear(tg::zeros({2, 4}), tg::zeros({5, 4}), tg::zeros({4})),
                       doctest::Contains("linear: b must be (5): got [4]"), tg::ShapeError);
}

namespace {
// (n x k) (k x m) by the textbook triple loop.
std::vector<double> naive_product(const std::vector<double>& a, const std::vector<double>& b,
                                  std::int64_t n, std::int64_t k, std::int64_t m) {
  std::vector<double> y(static_cast<std::size_t>(n * m), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t p = 0; p < k; ++p)
      for (std::int64_t j = 0; j < m; ++j) y[i * m + j] += a[i * k + p] * b[p * m + j];
  return y;
}
}  // namespace

TEST_CASE("matmul/linear: products big enough to be split across threads match a plain loop") {
  const int threads = tg::get_num_threads();
  tg::set_num_threads(2);
  // Taller than wide (split by rows), then wider than tall (split by columns); both > 1M MACs.
  for (auto [n, k, m] : {std::array<std::int64_t, 3>{200, 100, 60}, {8, 300, 600}}) {
    tg::Tensor a = leaf({n, k}, 1), b = leaf({k, m}, 2);
    tg::Tensor y = tg::matmul(a, b);
    check_values(y, naive_product(a.to_vector<double>(), b.to_vector<double>(), n, k, m), 1e-10);
    tg::Tensor g = leaf({n, m}, 3).detach();
    y.backward(g);
    // ga = g b^T, gb = a^T g: the same products with transposed operands.
    check_values(a.grad(),
                 naive_product(g.to_vector<double>(), tg::t(b).to_vector<double>(), n, m, k),
                 1e-10);
    check_values(b.grad(),
                 naive_product(tg::t(a).to_vector<double>(), g.to_vector<double>(), k, n, m),
                 1e-10);
    // linear(x, w) = x w^T with w = b^T, through the fused path.
    tg::Tensor w = tg::t(b).detach().requires_grad_(), x = a.detach().requires_grad_();
    tg::Tensor z = tg::linear(x, w);
    check_values(z, y.to_vector<double>(), 1e-10);
    z.backward(g);
    check_values(x.grad(), a.grad().to_vector<double>(), 1e-10);
    check_values(w.grad(), tg::t(b.grad()).to_vector<double>(), 1e-10);
  }
  tg::set_num_threads(threads);
}

TEST_CASE("matmul: operands read transposed match the product of the transposes") {
  // Every combination, batched and broadcast, and split across two threads (> 1M MACs), against
  // matmul of the materialised transposes: values and both gradients.
  const int threads = tg::get_num_threads();
  tg::set_num_threads(2);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& nkm : {std::array<std::int64_t, 3>{3, 4, 5}, {120, 90, 110}}) {
        // Named, not a structured binding: clang 16 with OpenMP cannot capture one in CAPTURE.
        const std::int64_t n = nkm[0], k = nkm[1], m = nkm[2];
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(n);
        tg::Tensor a = leaf(ta ? tg::Shape{2, k, n} : tg::Shape{2, n, k}, 4);
        tg::Tensor b = leaf(tb ? tg::Shape{m, k} : tg::Shape{k, m}, 5);
        const tg::Tensor g = leaf({2, n, m}, 6).detach();
        tg::Tensor y = tg::matmul(a, b, {.transpose_a = ta, .transpose_b = tb});
        y.backward(g);
        tg::Tensor a2 = a.detach().requires_grad_(), b2 = b.detach().requires_grad_();
        tg::Tensor y2 =
            tg::matmul(ta ? tg::transpose(a2, -2, -1) : a2, tb ? tg::transpose(b2, -2, -1) : b2);
        y2.backward(g);
        check_values(y, y2.to_vector<double>(), 1e-10);
        check_values(a.grad(), a2.grad().to_vector<double>(), 1e-10);
        check_values(b.grad(), b2.grad().to_vector<double>(), 1e-10);
      }
  tg::set_num_threads(threads);
  tg::Tensor q = leaf({2, 3, 4}, 7), kk = leaf({2, 5, 4}, 8);
  check_gradient([&] { return tg::matmul(q, kk, {.transpose_b = true}); }, {q, kk});
  tg::Tensor v = leaf({2, 3, 5}, 9);  // kk^T (2, 4, 5) times v^T (2, 5, 3)
  check_gradient([&] { return tg::matmul(kk, v, {.transpose_a = true, .transpose_b = true}); },
                 {kk, v});
}

TEST_CASE("matmul: a transposed operand's shapes are named, and it needs two dims") {
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({2, 3}), tg::zeros({4, 5}), {.transpose_b = true}),
                       doctest::Contains("matmul: [2, 3] x [4, 5]^T: inner sizes differ (3 vs 5)"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::matmul(tg::zeros({3}), tg::zeros({3, 2}), {.transpose_a = true}),
                       doctest::Contains("an operand read transposed needs at least two dims"),
                       tg::ShapeError);
}
