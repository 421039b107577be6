// create_graph: gradients that are recorded computations. Every op with a recorded-ops
// derivative passes gradgradcheck (second-order central differences, float64) over odd and
// broadcasting shapes, and its first-order gradient equals the fast kernel's to rounding;
// third order matches closed forms; the graph frees itself, honours grad mode as torch's, and
// refuses saved values changed in place; and the second derivatives are torch's
// (tests/reference/double_backward.json). The indexing ops, extrema, statistics, losses,
// attention and recurrent layers are in test_double_backward_ops.cpp.
#include <numbers>

#include "torch_second_order.h"

TEST_CASE("create_graph: every op with a recorded derivative passes gradgradcheck") {
  const tg::Tensor a = leaf({3, 4}, 1), b = leaf({3, 4}, 2), col = leaf({3, 1}, 3),
                   row = leaf({4}, 4), pos = leaf_in({3, 4}, 0.5, 2.0, 5);
  const tg::Tensor signs = leaf_in({2, 5}, 0.2, 1.0, 6);  // relu(signs - 0.6): no kink near
  const tg::Tensor x3 = leaf({2, 3, 5}, 7), w = leaf({4, 5}, 8), bias = leaf({4}, 9);
  const tg::Tensor m1 = leaf({3, 5}, 10), m2 = leaf({5, 2}, 11), batch = leaf({2, 3, 5}, 12),
                   vec5 = leaf({5}, 13), wt = leaf({2, 5}, 14);
  using tg::Tensor;
  const tg::Tensor img = leaf({2, 2, 5, 4}, 40), kern = leaf({3, 2, 3, 2}, 41),
                   kbias = leaf({3}, 42), img4 = leaf({1, 4, 5, 6}, 43),
                   kern_g = leaf({4, 2, 2, 2}, 44), seq = leaf({2, 3, 7}, 45),
                   kern1 = leaf({2, 3, 3}, 46);
  const tg::Tensor bn_w = leaf({2}, 47), bn_b = leaf({2}, 48),
                   bn_mean = tg::from_vector(std::vector<double>{0.3, -0.2}, {2}),
                   bn_var = tg::from_vector(std::vector<double>{1.5, 0.7}, {2});
  const tg::Tensor ln_w = leaf({5}, 15), ln_b = leaf({5}, 16), gn_x = leaf({2, 4, 3}, 17),
                   gn_w = leaf({4}, 18), gn_b = leaf({4}, 19);
  namespace F = tg::nn::functional;
  const tg::Tensor classes = tg::from_vector(std::vector<std::int64_t>{3, 0, 2}, {3});
  const tg::Tensor with_ignored = tg::from_vector(std::vector<std::int64_t>{1, -100, 3}, {3});
  F::CrossEntropyOptions ce_options;
  ce_options.weight = tg::from_vector(std::vector<double>{0.5, 2.0, 1.0, 1.5}, {4});
  ce_options.label_smoothing = 0.1;
  const std::vector<SecondOrderCase> cases = {
      {"add", [&] { return a + b; }, {a, b}},
      {"add, broadcast", [&] { return col + row; }, {col, row}},
      {"sub, broadcast", [&] { return a - row; }, {a, row}},
      {"mul", [&] { return a * b; }, {a, b}},
      {"mul, one tensor twice", [&] { return a * a; }, {a}},
      {"mul, broadcast", [&] { return col * row; }, {col, row}},
      {"div", [&] { return a / pos; }, {a, pos}},
      {"div, broadcast", [&] { return col / (row * row + 1.0); }, {col, row}},
      {"affine", [&] { return a * 3.0 - 2.0; }, {a}},
      {"neg", [&] { return -(a * b); }, {a, b}},
      {"pow 2", [&] { return tg::pow(a, 2); }, {a}},
      {"pow 0.5", [&] { return tg::pow(pos, 0.5); }, {pos}},
      {"pow 3", [&] { return tg::pow(a, 3); }, {a}},
      {"pow -1.5", [&] { return tg::pow(pos, -1.5); }, {pos}},
      {"exp", [&] { return tg::exp(a); }, {a}},
      {"log", [&] { return tg::log(pos); }, {pos}},
      {"sqrt", [&] { return tg::sqrt(pos); }, {pos}},
      {"square", [&] { return tg::square(a); }, {a}},
      {"sin", [&] { return tg::sin(a); }, {a}},
      {"cos", [&] { return tg::cos(a); }, {a}},
      {"sigmoid", [&] { return tg::sigmoid(a); }, {a}},
      {"tanh", [&] { return tg::tanh(a); }, {a}},
      {"relu", [&] { return tg::relu(signs - 0.6) * signs; }, {signs}},
      {"sum", [&] { return tg::sum(a * b); }, {a, b}},
      {"sum dim", [&] { return tg::sum(x3 * x3, 1); }, {x3}},
      {"sum dim keepdim", [&] { return tg::sum(x3 * x3, 2, true); }, {x3}},
      {"mean", [&] { return tg::mean(a * a); }, {a}},
      {"mean dim", [&] { return tg::mean(x3 * x3, 0); }, {x3}},
      {"linear", [&] { return tg::tanh(tg::linear(x3, w, bias)); }, {x3, w, bias}},
      {"linear, no bias", [&] { return tg::square(tg::linear(m1, w)); }, {m1, w}},
      {"matmul", [&] { return tg::square(tg::matmul(m1, m2)); }, {m1, m2}},
      {"matmul, batch broadcast", [&] { return tg::square(tg::matmul(batch, m2)); }, {batch, m2}},
      {"matmul, vector", [&] { return tg::square(tg::matmul(m1, vec5)); }, {m1, vec5}},
      {"matmul, vector first", [&] { return tg::square(tg::matmul(vec5, m2)); }, {vec5, m2}},
      {"matmul, two vectors", [&] { return tg::square(tg::matmul(vec5, vec5 * 2.0)); }, {vec5}},
      {"matmul, transposed",
       [&] { return tg::square(tg::matmul(m1, wt, {.transpose_b = true})); },
       {m1, wt}},
      {"matmul, transposed a",
       [&] { return tg::square(tg::matmul(m2, m1, {.transpose_a = true, .transpose_b = true})); },
       {m2, m1}},
      {"clone", [&] { return tg::square(a.clone()); }, {a}},
      {"reshape",
       [&] {
         return tg::square(tg::reshape(x3, {6, 5}));
       },
       {x3}},
      {"expand",
       [&] {
         return tg::square(tg::expand(col, {2, 3, 4}));
       },
       {col}},
      {"transpose", [&] { return tg::square(tg::transpose(x3, 0, 2)) * 1.5; }, {x3}},
      {"softmax", [&] { return tg::square(tg::softmax(x3, 1)); }, {x3}},
      {"permute",
       [&] {
         return tg::square(tg::permute(x3, {2, 0, 1})) * 1.5;
       },
       {x3}},
      {"flip",
       [&] {
         return tg::square(tg::flip(x3, {0, 2})) * x3;
       },
       {x3}},
      {"cumsum", [&] { return tg::square(tg::cumsum(x3, 1)); }, {x3}},
      {"cat",
       [&] {
         return tg::square(tg::cat({a, b * a, col}, 1));
       },
       {a, b, col}},
      {"slice, narrow",
       [&] {
         return tg::square(tg::slice(x3, 2, 1, 5, 2)) * 2.0 +
                tg::square(tg::narrow(x3, 1, 1, 2)).sum();
       },
       {x3}},
      {"where", [&] { return tg::square(tg::where(tg::gt(a, b), a * b, row)); }, {a, b, row}},
      {"masked_fill",
       [&] { return tg::square(tg::masked_fill(a * b, tg::gt(a, b), 2.0)); },
       {a, b}},
      {"tril, triu",
       [&] { return tg::square(tg::tril(a, 1)) + tg::square(tg::triu(b, -1)); },
       {a, b}},
      {"layer_norm",
       [&] { return tg::square(tg::layer_norm(x3, {5}, ln_w, ln_b)); },
       {x3, ln_w, ln_b}},
      {"layer_norm, two dims, no affine",
       [&] {
         return tg::layer_norm(x3, {3, 5}) * x3;
       },
       {x3}},
      {"group_norm",
       [&] { return tg::square(tg::group_norm(gn_x, 2, gn_w, gn_b)); },
       {gn_x, gn_w, gn_b}},
      {"conv2d",
       [&] {
         return tg::square(tg::conv2d(img, kern, kbias, {.padding = {1, 0}}));
       },
       {img, kern, kbias}},
      {"conv2d, groups, stride, dilation",
       [&] {
         return tg::square(tg::conv2d(img4, kern_g, Tensor(),
                                      {.stride = {2, 1}, .dilation = {1, 2}, .groups = 2}));
       },
       {img4, kern_g}},
      {"batch_norm, training",
       [&] {
         return tg::square(
             tg::batch_norm(img, tg::Tensor(), tg::Tensor(), bn_w, bn_b, {.training = true}));
       },
       {img, bn_w, bn_b}},
      {"batch_norm, eval",
       [&] {
         return tg::square(
             tg::batch_norm(img * img, bn_mean, bn_var, bn_w, bn_b, {.training = false}));
       },
       {img, bn_w, bn_b}},
      {"max_pool2d",
       [&] { return tg::square(tg::max_pool2d(img * img, {.kernel_size = 2})); },
       {img}},
      {"max_pool2d, stride 1, padding",
       [&] {
         return tg::square(
             tg::max_pool2d(img * img4.sum(), {.kernel_size = 3, .stride = 1, .padding = 1}));
       },
       {img, img4}},
      {"avg_pool2d",
       [&] { return tg::square(tg::avg_pool2d(img * img, {.kernel_size = 2, .stride = 1})); },
       {img}},
      {"adaptive_avg_pool2d",
       [&] {
         return tg::square(tg::adaptive_avg_pool2d(img * img, {2, 3}));
       },
       {img}},
      {"conv1d",
       [&] { return tg::square(tg::conv1d(seq, kern1, Tensor(), {.padding = 1})); },
       {seq, kern1}},
      {"leaky_relu", [&] { return tg::leaky_relu(signs - 0.6, 0.1) * signs; }, {signs}},
      {"softplus", [&] { return tg::softplus(a, 2.0, 1.0) * a; }, {a}},
      {"elu", [&] { return tg::elu(a, 1.3) * a; }, {a}},
      {"gelu, tanh", [&] { return tg::gelu(a, tg::GeluApproximate::Tanh) * a; }, {a}},
      {"gelu", [&] { return tg::gelu(a) * a; }, {a}},
      {"erf", [&] { return tg::erf(a) * a; }, {a}},
      {"silu", [&] { return tg::silu(a) * a; }, {a}},
      {"hardtanh", [&] { return tg::hardtanh(a * 2.0, -1.0, 1.0) * a; }, {a}},
      {"abs", [&] { return tg::abs(a) * a; }, {a}},
      {"rsqrt", [&] { return tg::rsqrt(pos); }, {pos}},
      {"clamp", [&] { return tg::clamp(a, -0.5, 0.7) * a; }, {a}},
      {"softmax, last dim", [&] { return tg::softmax(a, -1) * b; }, {a, b}},
      {"log_softmax", [&] { return tg::square(tg::log_softmax(x3, 2)); }, {x3}},
      {"mse_loss", [&] { return F::mse_loss(tg::tanh(a), b); }, {a, b}},
      {"mse_loss, sum", [&] { return F::mse_loss(a * a, b, tg::nn::Reduction::Sum); }, {a, b}},
      {"mse_loss, none", [&] { return F::mse_loss(a * a, b, tg::nn::Reduction::None); }, {a, b}},
      {"cross_entropy", [&] { return F::cross_entropy(a * a, classes); }, {a}},
      {"cross_entropy, sum",
       [&] { return F::cross_entropy(a * b, classes, tg::nn::Reduction::Sum); },
       {a, b}},
      {"cross_entropy, none",
       [&] { return F::cross_entropy(a * a, classes, tg::nn::Reduction::None); },
       {a}},
      {"cross_entropy, weights, smoothing, ignored",
       [&] { return F::cross_entropy(a * a, with_ignored, ce_options); },
       {a}},
      {"cross_entropy, probabilities",
       [&] { return F::cross_entropy(a * a, tg::softmax(b, 1), ce_options); },
       {a, b}},
  };
  check_second_order(cases);
}

TEST_CASE("create_graph: third order of x^3, tanh and softplus matches the closed forms") {
  const tg::Tensor x = leaf_of({-1.3, 0.4, 2.0}, {3});
  for (const int which : {0, 1, 2}) {
    CAPTURE(which);
    const tg::Tensor y = which == 0 ? tg::pow(x, 3) : which == 1 ? tg::tanh(x) : tg::softplus(x);
    const tg::Tensor d1 = tg::grad({y.sum()}, {x}, {}, {.create_graph = true})[0];
    const tg::Tensor d2 = tg::grad({d1.sum()}, {x}, {}, {.create_graph = true})[0];
    const tg::Tensor d3 = tg::grad({d2.sum()}, {x})[0];
    std::vector<double> e1, e2, e3;
    for (const double v : x.to_vector<double>()) {
      if (which == 1) {
        const double t = std::tanh(v), s = 1 - t * t;  // tanh' = 1 - t^2
        e1.push_back(s);
        e2.push_back(-2 * t * s);
        e3.push_back(-2 * s * s + 4 * t * t * s);
      } else if (which == 2) {
        const double s = 1 / (1 + std::exp(-v));  // softplus' = sigmoid
        e1.push_back(s);
        e2.push_back(s * (1 - s));
        e3.push_back(s * (1 - s) * (1 - 2 * s));
      } else {
        e1.push_back(3 * v * v);
        e2.push_back(6 * v);
        e3.push_back(6);
      }
    }
    check_values(d1.detach(), e1);
    check_values(d2.detach(), e2);
    check_values(d3, e3);
    CHECK(d2.requires_grad());
    CHECK_FALSE(d3.requires_grad());
  }
}

TEST_CASE("create_graph: a Hessian-vector product by double backward") {
  // f(x) = sum(x_i^2 x_j) over i, j = (sum x^2)(sum x): H = 2 diag(S) + 2 (x 1^T + 1 x^T).
  const tg::Tensor x = leaf_of({0.5, -1.0, 2.0}, {3});
  const tg::Tensor v =
      tg::from_vector(std::vector<double>{1.0, 2.0, -1.0}, {3}, {.dtype = tg::kFloat64});
  const tg::Tensor f = tg::sum(x * x) * tg::sum(x);
  const tg::Tensor g = tg::grad({f}, {x}, {}, {.create_graph = true})[0];
  const tg::Tensor hv = tg::grad({tg::sum(g * v)}, {x})[0];
  const std::vector<double> xs = x.to_vector<double>(), vs = v.to_vector<double>();
  const double S = xs[0] + xs[1] + xs[2];
  double xv = 0, sv = 0;
  for (int i = 0; i < 3; ++i) {
    xv += xs[i] * vs[i];
    sv += vs[i];
  }
  std::vector<double> expected;
  for (int i = 0; i < 3; ++i) expected.push_back(2 * S * vs[i] + 2 * xs[i] * sv + 2 * xv);
  check_values(hv, expected);
}

TEST_CASE("create_graph: backward() leaves .grad with graphs, each leaf's in its own storage") {
  tg::Tensor x = leaf_of({1.0, 2.0}, {2}), w = leaf_of({3.0, -1.0}, {2});
  tg::backward({tg::sum((x + w) * (x + w))}, {}, {.create_graph = true});
  REQUIRE(x.grad().requires_grad());
  check_values(x.grad().detach(), {8, 2});
  check_values(w.grad().detach(), {8, 2});
  // The gradient penalty's form: d/dx of sum(grad^2) = 2 * 2 * grad (d grad_x / dx = 2 I).
  const tg::Tensor penalty = tg::sum(x.grad() * x.grad());
  const tg::Tensor gp = tg::grad({penalty}, {x})[0];
  check_values(gp, {32, 8});
  // A later first-order backward accumulates into x.grad without touching w.grad.
  tg::sum(x * 10.0).backward();
  check_values(x.grad(), {18, 12});
  check_values(w.grad().detach(), {8, 2});
}

TEST_CASE("create_graph: retain_graph follows it, and NoGradGuard does not stop it") {
  const tg::Tensor x = leaf_of({0.3, -0.7}, {2});
  const tg::Tensor y = tg::sum(tg::exp(x) * x);
  const tg::Tensor g1 = tg::grad({y}, {x}, {}, {.create_graph = true})[0];
  // The graph was retained: a second pass through y works.
  const tg::Tensor g2 = tg::grad({y}, {x})[0];
  check_values(g1.detach(), g2.to_vector<double>());
  CHECK_FALSE(g2.requires_grad());
  // torch records the backward of a create_graph pass under no_grad as well.
  const tg::Tensor y3 = tg::sum(tg::exp(x) * x);
  tg::Tensor g3;
  {
    tg::NoGradGuard no_grad;
    g3 = tg::grad({y3}, {x}, {}, {.create_graph = true})[0];
    CHECK_FALSE(tg::is_grad_enabled());
  }
  CHECK(g3.requires_grad());
  // With retain_graph = false the first pass releases the forward graph.
  const tg::Tensor z = tg::sum(tg::exp(x));
  tg::grad({z}, {x}, {}, {.retain_graph = false, .create_graph = true});
  CHECK_THROWS_WITH_AS(tg::grad({z}, {x}), doctest::Contains("was already released"),
                       tg::StateError);
}

TEST_CASE("create_graph: the recorded graph is freed: 10,000 steps do not grow the tape") {
  tg::Tensor w = leaf({4, 3}, 21);
  const tg::Tensor x = leaf({8, 3}, 22).detach();
  std::size_t first = 0, last = 0;
  for (int step = 0; step < 10000; ++step) {
    const tg::Tensor out = tg::tanh(tg::linear(x, w));
    const tg::Tensor g = tg::grad({tg::sum(out * out)}, {w}, {}, {.create_graph = true})[0];
    (step == 0 ? first : last) = tg::tape_stats().entries;
    tg::sum(g * g).backward();
    w.zero_grad();
  }
  CHECK(first > 0);
  CHECK(last == first);
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("create_graph: a saved value changed in place is refused, as on the first order") {
  tg::Tensor x = leaf_of({0.5, 1.5}, {2});
  const tg::Tensor h = x * 2.0;
  const tg::Tensor y = tg::sum(h * h);
  const tg::Tensor g = tg::grad({y}, {x}, {}, {.create_graph = true})[0];
  {
    tg::NoGradGuard no_grad;
    x.add_(tg::ones({2}, {.dtype = tg::kFloat64}));
  }
  CHECK_THROWS_WITH_AS(tg::grad({tg::sum(g)}, {x}),
                       doctest::Contains("was modified in place after it was recorded"),
                       tg::StateError);
}

TEST_CASE("create_graph: first and second derivatives match torch's for every op") {
  using Fn = SecondOrderFn;
  namespace F = tg::nn::functional;
  F::CrossEntropyOptions ce;
  ce.weight = tg::from_vector(std::vector<double>{0.5, 2.0, 1.0, 1.5}, {4});
  ce.label_smoothing = 0.1;
  const std::map<std::string, Fn> ops = {
      {"add", [](const auto& in) { return in[0] + in[1]; }},
      {"sub", [](const auto& in) { return in[0] - in[1]; }},
      {"mul", [](const auto& in) { return in[0] * in[1]; }},
      {"div", [](const auto& in) { return in[0] / in[1]; }},
      {"affine", [](const auto& in) { return in[0] * 3.0 - 2.0; }},
      {"pow3", [](const auto& in) { return tg::pow(in[0], 3); }},
      {"pow-1.5", [](const auto& in) { return tg::pow(in[0], -1.5); }},
      {"sqrt", [](const auto& in) { return tg::sqrt(in[0]); }},
      {"square", [](const auto& in) { return tg::square(in[0]); }},
      {"exp", [](const auto& in) { return tg::exp(in[0]); }},
      {"log", [](const auto& in) { return tg::log(in[0]); }},
      {"sin", [](const auto& in) { return tg::sin(in[0]); }},
      {"cos", [](const auto& in) { return tg::cos(in[0]); }},
      {"sigmoid", [](const auto& in) { return tg::sigmoid(in[0]); }},
      {"tanh", [](const auto& in) { return tg::tanh(in[0]); }},
      {"relu", [](const auto& in) { return tg::relu(in[0]) * in[0]; }},
      {"sum", [](const auto& in) { return tg::sum(in[0] * in[0]); }},
      {"sum_dim", [](const auto& in) { return tg::sum(in[0] * in[0], 1); }},
      {"mean_dim_keepdim", [](const auto& in) { return tg::mean(in[0] * in[0], 2, true); }},
      {"linear", [](const auto& in) { return tg::tanh(tg::linear(in[0], in[1], in[2])); }},
      {"matmul", [](const auto& in) { return tg::pow(tg::matmul(in[0], in[1]), 2); }},
      {"matmul_vector", [](const auto& in) { return tg::pow(tg::matmul(in[0], in[1]), 2); }},
      {"transpose", [](const auto& in) { return tg::pow(tg::transpose(in[0], 0, 2), 2); }},
      {"expand",
       [](const auto& in) {
         return tg::pow(tg::expand(in[0], {2, 3, 4}), 2);
       }},
      {"reshape",
       [](const auto& in) {
         return tg::pow(tg::reshape(in[0], {6, 4}), 2);
       }},
      {"softmax", [](const auto& in) { return tg::pow(tg::softmax(in[0], 1), 2); }},
      {"log_softmax", [](const auto& in) { return tg::pow(tg::log_softmax(in[0], 2), 2); }},
      {"mse_loss", [](const auto& in) { return F::mse_loss(tg::tanh(in[0]), in[1]); }},
      {"cross_entropy",
       [&](const auto& in) {
         return F::cross_entropy(in[0] * in[0],
                                 tg::from_vector(std::vector<std::int64_t>{1, -100, 3}, {3}), ce);
       }},
      {"leaky_relu", [](const auto& in) { return tg::leaky_relu(in[0], 0.1) * in[0]; }},
      {"softplus", [](const auto& in) { return tg::softplus(in[0], 2.0, 1.0) * in[0]; }},
      {"elu", [](const auto& in) { return tg::elu(in[0], 1.3) * in[0]; }},
      {"gelu_tanh",
       [](const auto& in) { return tg::gelu(in[0], tg::GeluApproximate::Tanh) * in[0]; }},
      {"silu", [](const auto& in) { return tg::silu(in[0]) * in[0]; }},
      {"hardtanh", [](const auto& in) { return tg::hardtanh(in[0] * 2.0, -1.0, 1.0) * in[0]; }},
      {"abs", [](const auto& in) { return tg::abs(in[0]) * in[0]; }},
      {"rsqrt", [](const auto& in) { return tg::rsqrt(in[0]); }},
      {"clamp", [](const auto& in) { return tg::clamp(in[0], -0.5, 0.7) * in[0]; }},
      {"layer_norm",
       [](const auto& in) { return tg::pow(tg::layer_norm(in[0], {5}, in[1], in[2]), 2); }},
      {"group_norm",
       [](const auto& in) { return tg::pow(tg::group_norm(in[0], 2, in[1], in[2]), 2); }},
      {"permute",
       [](const auto& in) {
         return tg::pow(tg::permute(in[0], {2, 0, 1}), 2);
       }},
      {"flip",
       [](const auto& in) {
         return tg::pow(tg::flip(in[0], {0, 2}), 2) * in[0];
       }},
      {"cumsum", [](const auto& in) { return tg::pow(tg::cumsum(in[0], 1), 2); }},
      {"cat",
       [](const auto& in) {
         return tg::pow(tg::cat({in[0], in[1] * in[0], in[2]}, 1), 2);
       }},
      {"slice", [](const auto& in) { return tg::pow(tg::slice(in[0], 2, 1, 5, 2), 2); }},
      {"where",
       [](const auto& in) {
         return tg::pow(tg::where(tg::gt(in[0], in[1]), in[0] * in[1], in[2]), 2);
       }},
      {"masked_fill",
       [](const auto& in) {
         return tg::pow(tg::masked_fill(in[0] * in[1], tg::gt(in[0], in[1]), 2.0), 2);
       }},
      {"tril_triu",
       [](const auto& in) {
         return tg::pow(tg::tril(in[0], 1), 2) + tg::pow(tg::triu(in[1], -1), 2);
       }},
      {"conv2d",
       [](const auto& in) {
         return tg::pow(tg::conv2d(in[0], in[1], in[2], {.padding = {1, 0}}), 2);
       }},
      {"conv2d_groups",
       [](const auto& in) {
         return tg::pow(tg::conv2d(in[0], in[1], tg::Tensor(),
                                   {.stride = {2, 1}, .dilation = {1, 2}, .groups = 2}),
                        2);
       }},
      {"conv1d",
       [](const auto& in) {
         return tg::pow(tg::conv1d(in[0], in[1], tg::Tensor(), {.padding = 1}), 2);
       }},
      {"max_pool2d",
       [](const auto& in) {
         return tg::pow(tg::max_pool2d(in[0] * in[0], {.kernel_size = 2}), 2);
       }},
      {"avg_pool2d",
       [](const auto& in) {
         return tg::pow(tg::avg_pool2d(in[0] * in[0], {.kernel_size = 2, .stride = 1}), 2);
       }},
      {"adaptive_avg_pool2d",
       [](const auto& in) {
         return tg::pow(tg::adaptive_avg_pool2d(in[0] * in[0], {2, 3}), 2);
       }},
      {"erf", [](const auto& in) { return tg::erf(in[0]) * in[0]; }},
      {"gelu", [](const auto& in) { return tg::gelu(in[0]) * in[0]; }},
      {"batch_norm_training",
       [](const auto& in) {
         return tg::pow(
             tg::batch_norm(in[0], tg::Tensor(), tg::Tensor(), in[1], in[2], {.training = true}),
             2);
       }},
      {"batch_norm_eval",
       [](const auto& in) {
         return tg::pow(
             tg::batch_norm(in[0] * in[0], tg::from_vector(std::vector<double>{0.3, -0.2}, {2}),
                            tg::from_vector(std::vector<double>{1.5, 0.7}, {2}), in[1], in[2],
                            {.training = false}),
             2);
       }},
      {"cross_entropy_probabilities",
       [&](const auto& in) { return F::cross_entropy(in[0] * in[0], tg::softmax(in[1], 1), ce); }},
  };
  check_torch_second_order("double_backward.json", ops);
}

TEST_CASE("create_graph: a WGAN-GP step and a physics-informed loss give torch's gradients") {
  namespace td = torch_data;
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& c : td::cases("penalties.json")) by_name[c.at("name")] = c;
  REQUIRE(by_name.size() == 2);
  namespace nn = tg::nn;
  auto check_grads = [](nn::Module& m, const nlohmann::json& want) {
    const auto named = m.named_parameters();
    REQUIRE(named.size() == want.size());
    for (std::size_t i = 0; i < named.size(); ++i) {
      CAPTURE(named[i].first);
      CHECK(named[i].first == want[i].at("name").get<std::string>());
      check_values(named[i].second.grad(), td::tensor(want[i].at("value")).to_vector<double>());
    }
  };
  {
    // The README's penalty, as written there.
    const auto& c = by_name.at("wgan_gp");
    nn::Sequential critic(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1));
    critic.to(tg::kFloat64);
    critic.load_state_dict(td::state_dict(c.at("params")));
    const tg::Tensor real = td::tensor(c.at("real")), fake = td::tensor(c.at("fake")),
                     eps = td::tensor(c.at("eps"));
    const tg::Tensor x = (eps * real + (1.0 - eps) * fake).detach().requires_grad_(true);
    const tg::Tensor g = tg::grad({critic(x).sum()}, {x}, {}, {.create_graph = true})[0];
    const tg::Tensor penalty = tg::mean(tg::square(tg::sqrt(tg::sum(g * g, 1)) - 1.0));
    const tg::Tensor loss = tg::mean(critic(fake)) - tg::mean(critic(real)) + 10.0 * penalty;
    loss.backward();
    CHECK(loss.item() == doctest::Approx(c.at("loss").get<double>()).epsilon(1e-12));
    check_grads(critic, c.at("grads"));
  }
  {
    // examples/pinn.cpp's loss on a smaller network, with Tensor::backward's options form.
    const auto& c = by_name.at("pinn");
    nn::Sequential u(nn::Linear(1, 8), nn::Tanh(), nn::Linear(8, 8), nn::Tanh(), nn::Linear(8, 1));
    u.to(tg::kFloat64);
    u.load_state_dict(td::state_dict(c.at("params")));
    const tg::Tensor x = td::tensor(c.at("x")).requires_grad_(true);
    const tg::Tensor du = tg::grad({u(x).sum()}, {x}, {}, {.create_graph = true})[0];
    const tg::Tensor d2u = tg::grad({du.sum()}, {x}, {}, {.create_graph = true})[0];
    const double pi = std::numbers::pi;
    const tg::Tensor ends = tg::from_vector(std::vector<double>{0.0, 1.0}, {2, 1});
    const tg::Tensor loss =
        tg::mean(tg::square(d2u + pi * pi * tg::sin(x * pi))) + tg::mean(tg::square(u(ends)));
    loss.backward({}, {.retain_graph = false});
    CHECK(loss.item() == doctest::Approx(c.at("loss").get<double>()).epsilon(1e-12));
    check_grads(u, c.at("grads"));
  }
}

TEST_CASE("create_graph: Tensor::backward takes the options too") {
  tg::Tensor x = leaf_of({0.5, -1.5}, {2});
  tg::sum(x * x * x).backward({}, {.create_graph = true});
  REQUIRE(x.grad().requires_grad());
  check_values(x.grad().detach(), {0.75, 6.75});
  const tg::Tensor second = tg::grad({x.grad().sum()}, {x})[0];  // d/dx 3x^2 = 6x
  check_values(second, {3, -9});
}
