// tapegrad::autograd's functional derivatives: jacobian and hessian against closed forms, vjp,
// jvp, vhp and hvp against the full matrices they multiply, Newton's method on a logistic
// regression in ten lines, strict mode, create_graph, and bad arguments named; and torch's
// own values (tests/reference/functional.json), an MLP loss's Hessian-vector product included.
#include "../../torch_data.h"
#include "../helpers.h"

namespace ag = tg::autograd;

namespace {
// f(x) = exp(x) * sum(x^2): J_ij = [i == j] exp(x_i) S + 2 exp(x_i) x_j.
tg::Tensor f_exp(const tg::Tensor& x) { return tg::exp(x) * tg::sum(x * x); }

std::vector<double> f_exp_jacobian(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v * v;
  std::vector<double> j;
  for (std::size_t r = 0; r < x.size(); ++r)
    for (std::size_t c = 0; c < x.size(); ++c)
      j.push_back((r == c ? std::exp(x[r]) * s : 0.0) + 2 * std::exp(x[r]) * x[c]);
  return j;
}

/// Row-major (n x m) times (m) or (m) times (n x m).
std::vector<double> mat_vec(const std::vector<double>& a, std::size_t n, std::size_t m,
                            const std::vector<double>& v, bool transposed) {
  std::vector<double> r(transposed ? m : n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      if (transposed)
        r[j] += v[i] * a[i * m + j];
      else
        r[i] += a[i * m + j] * v[j];
    }
  return r;
}

// The seeds' logistic regression: 40 points in 2-D, labels from a noisy line; the weights
// (w0, w1, bias) multiply the points with a column of ones.
struct Logistic {
  tg::Tensor x, y;
  Logistic() {
    tg::Generator gen(17);
    const std::vector<double> xs =
        tg::randn({40, 2}, {.dtype = tg::kFloat64}, &gen).to_vector<double>();
    const std::vector<double> ns =
        tg::randn({40}, {.dtype = tg::kFloat64}, &gen).to_vector<double>();
    std::vector<double> rows, labels;
    for (std::size_t i = 0; i < 40; ++i) {
      rows.insert(rows.end(), {xs[2 * i], xs[2 * i + 1], 1.0});
      labels.push_back(xs[2 * i] - 0.5 * xs[2 * i + 1] + 0.8 * ns[i] > 0 ? 1.0 : 0.0);
    }
    x = tg::from_vector(rows, {40, 3});
    y = tg::from_vector(labels, {40});
  }
  /// Mean negative log-likelihood at w.
  tg::Tensor loss(const tg::Tensor& w) const {
    const tg::Tensor p = tg::sigmoid(tg::matmul(x, w));
    return -tg::mean(y * tg::log(p) + (1.0 - y) * tg::log(1.0 - p));
  }
};
}  // namespace

TEST_CASE("functional: jacobian and vjp / jvp agree with the closed form") {
  const tg::Tensor x = tg::from_vector(std::vector<double>{0.3, -1.2, 0.8}, {3});
  const std::vector<double> j = f_exp_jacobian(x.to_vector<double>());
  const tg::Tensor jac = ag::jacobian(f_exp, x);
  CHECK(jac.shape() == tg::Shape{3, 3});
  check_values(jac, j);
  CHECK_FALSE(jac.requires_grad());

  const tg::Tensor v = tg::from_vector(std::vector<double>{1.0, -2.0, 0.5}, {3});
  const auto [y, vj] = ag::vjp(f_exp, x, v);
  check_values(y, f_exp(x).to_vector<double>());
  check_values(vj, mat_vec(j, 3, 3, v.to_vector<double>(), true));
  const auto [y2, jv] = ag::jvp(f_exp, x, v);
  check_values(jv, mat_vec(j, 3, 3, v.to_vector<double>(), false));
  CHECK_FALSE(jv.requires_grad());
}

TEST_CASE("functional: hessian, vhp and hvp of a function of two inputs") {
  // f(a, b) = sum(tanh(a b^T)) for a (3), b (2) as matrices a b^T through matmul.
  const tg::Tensor a = tg::from_vector(std::vector<double>{0.2, -0.4, 0.9}, {3, 1});
  const tg::Tensor b = tg::from_vector(std::vector<double>{1.1, -0.3}, {1, 2});
  const ag::FunctionN f = [](const std::vector<tg::Tensor>& in) {
    return tg::sum(tg::tanh(tg::matmul(in[0], in[1])));
  };
  const std::vector<std::vector<tg::Tensor>> h = ag::hessian(f, {a, b});
  REQUIRE(h.size() == 2);
  CHECK(h[0][0].shape() == tg::Shape{3, 1, 3, 1});
  CHECK(h[0][1].shape() == tg::Shape{3, 1, 1, 2});
  CHECK(h[1][0].shape() == tg::Shape{1, 2, 3, 1});
  // Symmetric: the (a, b) block is the (b, a) block transposed.
  const std::vector<double> ab = h[0][1].to_vector<double>(), ba = h[1][0].to_vector<double>();
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j) CHECK(ab[i * 2 + j] == doctest::Approx(ba[j * 3 + i]));
  // d2/da_i^2 sum_j tanh(a_i b_j) = sum_j -2 t (1 - t^2) b_j^2.
  const std::vector<double> as = a.to_vector<double>(), bs = b.to_vector<double>();
  const std::vector<double> aa = h[0][0].to_vector<double>();
  for (std::size_t i = 0; i < 3; ++i) {
    double e = 0;
    for (std::size_t j = 0; j < 2; ++j) {
      const double t = std::tanh(as[i] * bs[j]);
      e += -2 * t * (1 - t * t) * bs[j] * bs[j];
    }
    CHECK(aa[i * 3 + i] == doctest::Approx(e).epsilon(1e-12));
    for (std::size_t k = 0; k < 3; ++k)
      if (k != i) CHECK(aa[i * 3 + k] == 0);
  }
  // H v from the blocks, against hvp and vhp.
  const tg::Tensor va = tg::from_vector(std::vector<double>{1.0, 0.5, -1.0}, {3, 1});
  const tg::Tensor vb = tg::from_vector(std::vector<double>{-0.7, 2.0}, {1, 2});
  const std::vector<double> vav = va.to_vector<double>(), vbv = vb.to_vector<double>();
  std::vector<double> ha = mat_vec(aa, 3, 3, vav, false), hb(2, 0.0);
  const std::vector<double> ab_va = mat_vec(ab, 3, 2, vbv, false);
  const std::vector<double> bb = h[1][1].to_vector<double>();
  for (std::size_t i = 0; i < 3; ++i) ha[i] += ab_va[i];
  const std::vector<double> ba_va = mat_vec(ba, 2, 3, vav, false),
                            bb_vb = mat_vec(bb, 2, 2, vbv, false);
  for (std::size_t j = 0; j < 2; ++j) hb[j] = ba_va[j] + bb_vb[j];
  for (const bool use_hvp : {true, false}) {
    CAPTURE(use_hvp);
    const auto [y, hv] = use_hvp ? ag::hvp(f, {a, b}, {va, vb}) : ag::vhp(f, {a, b}, {va, vb});
    check_values(y, f({a, b}).to_vector<double>());
    REQUIRE(hv.size() == 2);
    check_values(hv[0], ha);
    check_values(hv[1], hb);
  }
}

TEST_CASE("functional: Newton's method on the logistic regression, with hessian") {
  const Logistic lr;
  tg::Tensor w = tg::zeros({3}, {.dtype = tg::kFloat64});
  double last = 0;
  for (int step = 0; step < 8; ++step) {
    const tg::Tensor g = ag::vjp([&](const tg::Tensor& v) { return lr.loss(v); }, w).second;
    const tg::Tensor h = ag::hessian([&](const tg::Tensor& v) { return lr.loss(v); }, w);
    // Solve h d = g by Cramer's rule on the 3 x 3 system (the test needs no solver).
    const std::vector<double> H = h.to_vector<double>(), G = g.to_vector<double>();
    auto det = [](const std::vector<double>& m) {
      return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
             m[2] * (m[3] * m[7] - m[4] * m[6]);
    };
    const double d = det(H);
    std::vector<double> step_vec;
    for (int c = 0; c < 3; ++c) {
      std::vector<double> m = H;
      for (int r = 0; r < 3; ++r) m[r * 3 + c] = G[r];
      step_vec.push_back(det(m) / d);
    }
    w = w - tg::from_vector(step_vec, {3});
    last = std::sqrt(G[0] * G[0] + G[1] * G[1] + G[2] * G[2]);
  }
  CHECK(last < 1e-10);  // quadratic convergence: the gradient at the seventh iterate
  const tg::Tensor g_end = ag::vjp([&](const tg::Tensor& v) { return lr.loss(v); }, w).second;
  for (double v : g_end.to_vector<double>()) CHECK(std::abs(v) < 1e-12);
}

TEST_CASE("functional: strict mode names an input the output does not depend on") {
  const tg::Tensor a = tg::from_vector(std::vector<double>{1.0, 2.0}, {2});
  const tg::Tensor b = tg::from_vector(std::vector<double>{3.0}, {1});
  const ag::FunctionN f = [](const std::vector<tg::Tensor>& in) { return tg::sum(in[0] * in[0]); };
  const auto [y, g] = ag::vjp(f, {a, b});
  check_values(g[1], {0});
  CHECK_THROWS_WITH_AS(ag::vjp(f, {a, b}, tg::Tensor(), {.strict = true}),
                       "vjp: the output does not depend on input 1 (strict mode does not allow it)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(ag::jvp(f, {a, b}, {a, b}, {.strict = true}),
                       "jvp: the output does not depend on input 1 (strict mode does not allow it)",
                       tg::ValueError);
  // Linear in a: its Hessian is zero, and strict says the Jacobian does not depend on a.
  const ag::FunctionN lin = [](const std::vector<tg::Tensor>& in) { return tg::sum(in[0] * 3.0); };
  check_values(ag::hessian(lin, {a})[0][0], {0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(ag::hessian(lin, {a}, {.strict = true}),
                       "hessian: the output's Jacobian does not depend on input 0 (strict mode "
                       "does not allow it)",
                       tg::ValueError);
}

TEST_CASE("functional: create_graph keeps the results differentiable in the inputs") {
  const tg::Tensor x = leaf_of({0.4, -0.9}, {2});
  const tg::Tensor jac =
      ag::jacobian([](const tg::Tensor& v) { return tg::exp(v) * v; }, x, {.create_graph = true});
  REQUIRE(jac.requires_grad());
  // d/dx_i of the trace of diag((1 + x) e^x) = (2 + x_i) e^{x_i}.
  const tg::Tensor d = tg::grad({jac.sum()}, {x})[0];
  const std::vector<double> xs = x.to_vector<double>();
  check_values(d, {(2 + xs[0]) * std::exp(xs[0]), (2 + xs[1]) * std::exp(xs[1])});
  // Without it the inputs' graphs are left alone and the results are plain values.
  const tg::Tensor plain = ag::jacobian([](const tg::Tensor& v) { return tg::exp(v) * v; }, x);
  CHECK_FALSE(plain.requires_grad());
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("functional: bad arguments are named") {
  const tg::Tensor x = tg::from_vector(std::vector<double>{1.0, 2.0}, {2});
  CHECK_THROWS_WITH_AS(ag::vjp(f_exp, x),
                       "vjp: v may be left out only when the function returns one element; it "
                       "returned [2]",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(ag::vjp(f_exp, x, tg::ones({3}, {.dtype = tg::kFloat64})),
                       "vjp: v is [3] float64, the function's output [2] float64", tg::ValueError);
  CHECK_THROWS_WITH_AS(ag::hessian(f_exp, x),
                       "hessian: the function must return one element, it returned [2]",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(ag::hvp([](const tg::Tensor& v) { return tg::sum(v); }, x,
                               tg::ones({3}, {.dtype = tg::kFloat64})),
                       "hvp: v 0 must be [2] float64 like its input, got [3]", tg::ValueError);
  CHECK_THROWS_WITH_AS(ag::jacobian(f_exp, tg::ones({2}, {.dtype = tg::kInt64})),
                       "jacobian: input 0 is int64; derivatives need a floating-point tensor",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(ag::jacobian(nullptr, x), "jacobian: the function is empty", tg::ValueError);
}

TEST_CASE("functional: the values torch.autograd.functional gives") {
  namespace td = torch_data;
  const nlohmann::json cases = td::cases("functional.json");
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& c : cases) by_name[c.at("name")] = c;
  REQUIRE(by_name.size() == 7);
  auto values = [](const tg::Tensor& t) { return t.to_vector<double>(); };
  {
    const auto& c = by_name.at("jacobian");
    check_values(ag::jacobian(f_exp, td::tensor(c.at("x"))), values(td::tensor(c.at("value"))));
  }
  for (const char* name : {"vjp", "jvp"}) {
    CAPTURE(name);
    const auto& c = by_name.at(name);
    const tg::Tensor x = td::tensor(c.at("x")), v = td::tensor(c.at("v"));
    const tg::Tensor got =
        std::string(name) == "vjp" ? ag::vjp(f_exp, x, v).second : ag::jvp(f_exp, x, v).second;
    check_values(got, values(td::tensor(c.at("value"))));
  }
  const ag::FunctionN g = [](const std::vector<tg::Tensor>& in) {
    return tg::sum(tg::tanh(tg::matmul(in[0], in[1])));
  };
  {
    const auto& c = by_name.at("hessian");
    const auto h = ag::hessian(g, {td::tensor(c.at("a")), td::tensor(c.at("b"))});
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 2; ++j) {
        CAPTURE(i);
        CAPTURE(j);
        const tg::Tensor want = td::tensor(c.at("value")[i][j]);
        CHECK(h[i][j].shape() == want.shape());
        check_values(h[i][j], values(want));
      }
  }
  for (const char* name : {"hvp", "vhp"}) {
    CAPTURE(name);
    const auto& c = by_name.at(name);
    const std::vector<tg::Tensor> in = {td::tensor(c.at("a")), td::tensor(c.at("b"))};
    const std::vector<tg::Tensor> v = {td::tensor(c.at("va")), td::tensor(c.at("vb"))};
    const auto got = std::string(name) == "hvp" ? ag::hvp(g, in, v) : ag::vhp(g, in, v);
    for (std::size_t i = 0; i < 2; ++i)
      check_values(got.second[i], values(td::tensor(c.at("value")[i])));
  }
  {
    // The MLP's loss as a function of all its parameters at once.
    const auto& c = by_name.at("mlp_hvp");
    const tg::Tensor x = td::tensor(c.at("x")), y = td::tensor(c.at("y"));
    std::vector<tg::Tensor> params, v;
    for (const auto& p : c.at("params")) params.push_back(td::tensor(p.at("value")));
    for (const auto& p : c.at("v")) v.push_back(td::tensor(p.at("value")));
    const ag::FunctionN loss = [&](const std::vector<tg::Tensor>& p) {
      const tg::Tensor h = tg::tanh(tg::linear(x, p[0], p[1]));
      return tg::mean(tg::square(tg::linear(h, p[2], p[3]) - y));
    };
    const auto [value, hv] = ag::hvp(loss, params, v);
    REQUIRE(hv.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      check_values(hv[i], values(td::tensor(c.at("value")[i].at("value"))));
    }
  }
}
