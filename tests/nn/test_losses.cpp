// Losses: values by hand, reductions, gradchecks, stability at extreme logits, shape errors.
#include "../core/helpers.h"

namespace nn = tg::nn;
namespace F = tg::nn::functional;
using R = tg::nn::Reduction;

namespace {
tg::Tensor f64(std::initializer_list<double> v, tg::Shape s = {}) {
  return tg::tensor(v, s, {.dtype = tg::kFloat64});
}
tg::Tensor labels(std::vector<std::int64_t> v) { return tg::from_vector(v); }
}  // namespace

TEST_CASE("mse_loss/l1_loss: values and reductions") {
  tg::Tensor x = f64({1, 2, 3}), y = f64({1, 0, 0});
  CHECK(F::mse_loss(x, y).item() == doctest::Approx(13.0 / 3));
  CHECK(F::mse_loss(x, y, R::Sum).item() == 13);
  check_values(F::mse_loss(x, y, R::None), {0, 4, 9});
  CHECK(nn::L1Loss()(x, y).item() == doctest::Approx(5.0 / 3));
  CHECK(nn::MSELoss(R::Sum)(x, y).item() == 13);
}

TEST_CASE("mse_loss/l1_loss: gradient matches finite differences for every reduction") {
  tg::Tensor x = leaf({3, 4}), y = leaf({3, 4}, 8);
  for (R r : {R::Mean, R::Sum, R::None}) {
    check_gradient([&] { return F::mse_loss(x, y, r); }, {x, y});
    check_gradient([&] { return F::l1_loss(x, y, r); }, {x, y});
  }
}

TEST_CASE("mse_loss: is one tape entry, reduction included") {
  tg::Tensor x = leaf({3, 4}), y = leaf({3, 4}, 8);
  tg::Tensor loss = F::mse_loss(x, y);
  CHECK(tg::tape_stats().entries == 1);
  loss.backward();
  // d/dx mean((x - y)^2) = 2 (x - y) / n
  const std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>();
  std::vector<double> expected;
  for (std::size_t i = 0; i < xv.size(); ++i) expected.push_back(2 * (xv[i] - yv[i]) / 12);
  check_values(x.grad(), expected, 1e-15);
}

TEST_CASE("mse_loss: shapes that would broadcast, and mixed dtypes, are refused") {
  CHECK_THROWS_WITH_AS(F::mse_loss(tg::zeros({64, 1}), tg::zeros({64})),
                       doctest::Contains("mse_loss: target must match the input: input is [64, 1] "
                                         "float32, target is [64] float32"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(F::l1_loss(tg::zeros({2}), tg::zeros({2}, {.dtype = tg::kFloat64})),
                       doctest::Contains("l1_loss: target must match the input"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(
      F::mse_loss(tg::zeros({2}, {.dtype = tg::kInt64}), tg::zeros({2}, {.dtype = tg::kInt64})),
      doctest::Contains("mse_loss: needs a floating-point tensor"), tg::ValueError);
}

TEST_CASE("cross_entropy: values with class indices and with probabilities") {
  tg::Tensor x = f64({1, 2, 3, 1, 1, 1}, {2, 3});
  const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3;
  const double l1 = std::log(3.0);
  CHECK(F::cross_entropy(x, labels({2, 0})).item() ==
        doctest::Approx((l0 + l1) / 2).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(F::cross_entropy(x, f64({2, 0})),
                       doctest::Contains("class-index targets must be int64 of shape (2)"),
                       tg::ShapeError);
  CHECK(F::cross_entropy(x, labels({2, 0}), R::Sum).item() ==
        doctest::Approx(l0 + l1).epsilon(1e-12));
  check_values(F::cross_entropy(x, labels({2, 0}), R::None), {l0, l1});
  tg::Tensor onehot = f64({0, 0, 1, 1, 0, 0}, {2, 3});
  CHECK(F::cross_entropy(x, onehot).item() == doctest::Approx((l0 + l1) / 2).epsilon(1e-12));
  tg::Tensor soft = f64({0.2, 0.3, 0.5, 1, 0, 0}, {2, 3});
  const double lse0 = l0 + 3;
  const double s0 = 0.2 * (lse0 - 1) + 0.3 * (lse0 - 2) + 0.5 * (lse0 - 3);
  CHECK(nn::CrossEntropyLoss()(x, soft).item() == doctest::Approx((s0 + l1) / 2).epsilon(1e-12));
}

TEST_CASE("cross_entropy: gradient matches finite differences") {
  tg::Tensor x = leaf({4, 3});
  tg::Tensor t = labels({2, 0, 1, 1});
  tg::Tensor soft = tg::softmax(leaf({4, 3}, 8), 1).detach();
  soft.requires_grad_();
  for (R r : {R::Mean, R::Sum, R::None}) {
    check_gradient([&] { return F::cross_entropy(x, t, r); }, {x});
    check_gradient([&] { return F::cross_entropy(x, soft, r); }, {x, soft});
  }
}

TEST_CASE("cross_entropy: backward is (softmax - onehot) / B") {
  tg::Tensor x = leaf({3, 4});
  F::cross_entropy(x, labels({1, 3, 0})).backward();
  tg::Tensor expected =
      (tg::softmax(x, 1) - f64({0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0}, {3, 4})) / 3.0;
  check_values(x.grad(), expected.to_vector<double>());
}

TEST_CASE("cross_entropy: finite values and exact gradients for logits of +-1000") {
  tg::Tensor x = leaf_of({1000, -1000, 0, -1000, 1000, -1000}, {2, 3});
  tg::Tensor loss = F::cross_entropy(x, labels({0, 0}), R::Sum);
  CHECK(loss.item() == doctest::Approx(2000));
  loss.backward();
  check_values(x.grad(), {0, 0, 0, -1, 1, 0});
  tg::Tensor x32 = tg::tensor({1000, -1000, 0}, {1, 3});
  CHECK(std::isfinite(F::cross_entropy(x32, labels({1})).item()));
}

TEST_CASE("cross_entropy: bad targets are named") {
  tg::Tensor x = tg::zeros({2, 3});
  CHECK_THROWS_WITH_AS(
      F::cross_entropy(x, labels({0, 3})),
      doctest::Contains("cross_entropy: target 3 at position 1 is out of range for 3 classes"),
      tg::ValueError);
  CHECK_THROWS_WITH_AS(
      F::cross_entropy(x, labels({0, 1, 2})),
      doctest::Contains("class-index targets must be (2) for logits [2, 3]: got [3]"),
      tg::ShapeError);
  CHECK_THROWS_AS(F::cross_entropy(x, tg::zeros({2, 4})), tg::ShapeError);
  CHECK_THROWS_AS(F::cross_entropy(tg::zeros({6}), labels({0})), tg::ShapeError);
}

TEST_CASE("nll_loss: values, gradient and errors") {
  tg::Tensor lp = f64({-1, -2, -0.5, -3}, {2, 2});
  CHECK(F::nll_loss(lp, labels({1, 0})).item() == doctest::Approx(1.25));
  check_values(nn::NLLLoss(R::None)(lp, labels({1, 0})), {2, 0.5});
  tg::Tensor x = leaf({4, 3});
  check_gradient([&] { return F::nll_loss(tg::log_softmax(x, 1), labels({2, 0, 1, 1})); }, {x});
  // nll_loss(log_softmax(x)) is cross_entropy(x).
  CHECK(F::nll_loss(tg::log_softmax(x, 1), labels({2, 0, 1, 1})).item() ==
        doctest::Approx(F::cross_entropy(x, labels({2, 0, 1, 1})).item()).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(
      F::nll_loss(lp, labels({1})),
      doctest::Contains("nll_loss: target must be int64 [2] for log_probs [2, 2]: got [1] int64"),
      tg::ShapeError);
}

TEST_CASE("binary_cross_entropy: backward clamps p (1 - p) with torch's float constant 1e-12") {
  // torch: grad = (p - t) / max(p (1 - p), EPSILON) with `static const float EPSILON = 1e-12`,
  // which is 9.999999960041972e-13 in float64, not 1e-12.
  const double eps = static_cast<double>(1e-12f);
  CHECK(eps == 9.999999960041972e-13);
  tg::Tensor p = tg::from_vector(std::vector<double>{1e-13, 1 - 1e-16, 0.5}, {},
                                 {.dtype = tg::kFloat64, .requires_grad = true});
  tg::Tensor t = f64({0, 1, 1});
  F::binary_cross_entropy(p, t, R::Sum).backward();
  const double q = 1 - 1e-16;
  const std::vector<double> want = {1e-13 / eps, (q - 1) / std::max(q * (1 - q), eps), -0.5 / 0.25};
  const std::vector<double> got = p.grad().to_vector<double>();
  for (std::size_t i = 0; i < 3; ++i) CHECK(got[i] == want[i]);
  CHECK(got[0] != 1e-13 / 1e-12);
}

TEST_CASE("binary_cross_entropy: values, the -100 clamp, gradient") {
  tg::Tensor p = f64({0.2, 0.9}), t = f64({0, 1});
  CHECK(F::binary_cross_entropy(p, t).item() ==
        doctest::Approx(-(std::log(0.8) + std::log(0.9)) / 2));
  CHECK(nn::BCELoss()(f64({0}), f64({1})).item() == doctest::Approx(100));  // log 0 clamped
  tg::Tensor pl = tg::sigmoid(leaf({3, 4})).detach();
  pl.requires_grad_();
  tg::Tensor tl = tg::rand({3, 4}, {.dtype = tg::kFloat64});
  for (R r : {R::Mean, R::Sum, R::None})
    check_gradient([&] { return F::binary_cross_entropy(pl, tl, r); }, {pl});
  CHECK_THROWS_WITH_AS(F::binary_cross_entropy(f64({1.5}), f64({1})),
                       doctest::Contains("every input must be a probability in [0, 1]"),
                       tg::ValueError);
  CHECK_THROWS_AS(F::binary_cross_entropy(f64({0.5, 0.5}), f64({1})), tg::ShapeError);
}

TEST_CASE("binary_cross_entropy_with_logits: stable for logits of +-100") {
  tg::Tensor x = leaf_of({100, -100, 100, -100, 0});
  tg::Tensor t = f64({0, 1, 1, 0, 1});
  tg::Tensor loss = F::binary_cross_entropy_with_logits(x, t, R::None);
  check_values(loss, {100, 100, 0, 0, std::log(2.0)}, 1e-12);
  loss.sum().backward();
  check_values(x.grad(), {1, -1, 0, 0, -0.5}, 1e-12);  // sigmoid(x) - t
}

TEST_CASE("binary_cross_entropy_with_logits: gradient in logits and targets") {
  tg::Tensor x = leaf({3, 4}), t = leaf({3, 4}, 8);
  for (R r : {R::Mean, R::Sum, R::None})
    check_gradient([&] { return nn::BCEWithLogitsLoss(r)(x, t); }, {x, t});
  // The same loss as sigmoid followed by BCE, away from saturation.
  tg::Tensor tt = tg::rand({3, 4}, {.dtype = tg::kFloat64});
  CHECK(F::binary_cross_entropy_with_logits(x, tt).item() ==
        doctest::Approx(F::binary_cross_entropy(tg::sigmoid(x), tt).item()).epsilon(1e-10));
}

TEST_CASE("huber_loss/smooth_l1_loss: values on both sides of the kink, and modules") {
  const tg::Tensor x = f64({0, 0.5, 3}), y = f64({0, 0, 0});
  check_values(F::huber_loss(x, y, R::None), {0, 0.125, 2.5});
  check_values(F::huber_loss(x, y, R::None, 2), {0, 0.125, 4});
  check_values(F::smooth_l1_loss(x, y, R::None), {0, 0.125, 2.5});
  check_values(F::smooth_l1_loss(x, y, R::None, 2), {0, 0.0625, 2});
  check_values(F::smooth_l1_loss(x, y, R::None, 0), {0, 0.5, 3});  // beta 0 is L1
  CHECK(nn::HuberLoss(R::Sum, 2)(x, y).item() == doctest::Approx(4.125));
  CHECK(nn::SmoothL1Loss(R::Mean, 2)(x, y).item() == doctest::Approx(2.0625 / 3));
  // At the kink (|x - y| == delta) the gradient is delta, as torch's clamp.
  tg::Tensor k = tg::from_vector(std::vector<double>{1, -1}, {2},
                                 {.dtype = tg::kFloat64, .requires_grad = true});
  F::huber_loss(k, f64({0, 0}), R::Sum).backward();
  check_values(k.grad(), {1, -1});
}

TEST_CASE("huber_loss/smooth_l1_loss/kl_div: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4}), y = leaf({3, 4}, 8);
  tg::Tensor lp = tg::log_softmax(leaf({3, 4}, 9), 1).detach().requires_grad_();
  tg::Tensor tp = tg::softmax(leaf({3, 4}, 10), 1).detach().requires_grad_();
  for (R r : {R::Mean, R::Sum, R::None}) {
    check_gradient([&] { return F::huber_loss(x * 2, y, r, 0.7); }, {x, y});
    check_gradient([&] { return F::smooth_l1_loss(x * 2, y, r, 0.6); }, {x, y});
    check_gradient([&] { return F::kl_div(lp, tp, r); }, {lp, tp});
    check_gradient([&] { return F::kl_div(lp, tg::log(tp), r, true); }, {lp, tp});
  }
  check_gradient([&] { return F::kl_div(lp, tp, R::BatchMean); }, {lp, tp});
}

TEST_CASE("kl_div: batchmean is the true divergence, and a zero target adds nothing") {
  const tg::Tensor p = f64({0.5, 0.5, 0, 1}, {2, 2}), q = f64({0.25, 0.75, 0.5, 0.5}, {2, 2});
  const double d0 = 0.5 * std::log(0.5 / 0.25) + 0.5 * std::log(0.5 / 0.75);
  const double d1 = 1 * std::log(1 / 0.5);  // the 0 log 0 term is 0
  CHECK(F::kl_div(tg::log(q), p, R::BatchMean).item() == doctest::Approx((d0 + d1) / 2));
  CHECK(F::kl_div(tg::log(q), p, R::Sum).item() == doctest::Approx(d0 + d1));
  CHECK(F::kl_div(tg::log(q), p).item() == doctest::Approx((d0 + d1) / 4));
  CHECK(nn::KLDivLoss(R::BatchMean, true)(tg::log(q), tg::log(f64({0.5, 0.5, 0.5, 0.5}, {2, 2})))
            .item() == doctest::Approx(d0 / 2 + (0.5 * std::log(0.5 / 0.5) * 2) / 2));
  tg::Tensor lq = tg::log(q).detach().requires_grad_();
  F::kl_div(lq, p, R::Sum).backward();
  check_values(lq.grad(), {-0.5, -0.5, 0, -1});
}

TEST_CASE("huber_loss/smooth_l1_loss/kl_div: bad options are named") {
  const tg::Tensor x = f64({1, 2});
  CHECK_THROWS_WITH_AS(F::huber_loss(x, x, R::Mean, 0),
                       doctest::Contains("huber_loss: delta must be positive"), tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::HuberLoss(R::Mean, -1), doctest::Contains("huber_loss: delta"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::SmoothL1Loss(R::Mean, -0.5),
                       doctest::Contains("smooth_l1_loss: beta must be non-negative"),
                       tg::ValueError);
  for (const char* op : {"mse_loss", "cross_entropy", "nll_loss", "huber_loss"}) {
    INFO(op);
    const std::string o = op;
    auto call = [&] {
      if (o == "mse_loss") return F::mse_loss(x, x, R::BatchMean);
      if (o == "huber_loss") return F::huber_loss(x, x, R::BatchMean);
      if (o == "cross_entropy")
        return F::cross_entropy(tg::zeros({2, 3}), labels({0, 1}), R::BatchMean);
      return F::nll_loss(tg::zeros({2, 3}), labels({0, 1}), R::BatchMean);
    };
    CHECK_THROWS_WITH_AS(call(),
                         doctest::Contains((o + ": Reduction::BatchMean is kl_div's only").c_str()),
                         tg::ValueError);
  }
  CHECK_THROWS_WITH_AS(F::kl_div(x, f64({1, 2, 3})), doctest::Contains("kl_div: target must match"),
                       tg::ShapeError);
}

TEST_CASE("cross_entropy/nll_loss options: weights, ignore_index, label smoothing, N-d inputs") {
  tg::Tensor x = leaf({2, 4, 3});  // (N, C, d)
  const tg::Tensor t = tg::from_vector(std::vector<std::int64_t>{0, 3, -100, 2, 2, 1}, {2, 3});
  const tg::Tensor w = f64({0.5, 1, 2, 1.5});
  F::CrossEntropyOptions o;
  o.weight = w;
  o.label_smoothing = 0.2;
  for (R r : {R::Mean, R::Sum, R::None}) {
    o.reduction = r;
    check_gradient([&] { return F::cross_entropy(x, t, o); }, {x});
    F::NLLLossOptions n;
    n.weight = w;
    n.reduction = r;
    check_gradient([&] { return F::nll_loss(tg::log_softmax(x, 1), t, n); }, {x});
  }
  o.reduction = R::None;
  CHECK(F::cross_entropy(x, t, o).shape() == tg::Shape{2, 3});
  CHECK(F::cross_entropy(x, t, o).at({0, 2}) == 0);  // the ignored position adds nothing
  // Without smoothing and weights, cross_entropy is nll_loss of log_softmax, ignore included.
  F::CrossEntropyOptions plain;
  F::NLLLossOptions nplain;
  CHECK(F::cross_entropy(x, t, plain).item() ==
        doctest::Approx(F::nll_loss(tg::log_softmax(x, 1), t, nplain).item()).epsilon(1e-12));
  // The modules carry the options.
  o.reduction = R::Sum;
  CHECK(nn::CrossEntropyLoss(o)(x, t).item() ==
        doctest::Approx(F::cross_entropy(x, t, o).item()).epsilon(1e-12));
  // One sample: logits (C) with a 0-d target.
  const tg::Tensor one = f64({1, 2, 3});
  const tg::Tensor idx = tg::from_vector(std::vector<std::int64_t>{2}).reshape({});
  CHECK(F::cross_entropy(one, idx).item() ==
        doctest::Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3));
  // Every target ignored: the mean is 0 / 0, as torch's.
  const tg::Tensor all_ignored = tg::from_vector(std::vector<std::int64_t>{-100, -100});
  CHECK(std::isnan(F::cross_entropy(tg::zeros({2, 3}), all_ignored).item()));
  CHECK(F::cross_entropy(tg::zeros({2, 3}), all_ignored, R::Sum).item() == 0);
}

TEST_CASE("cross_entropy/nll_loss options: bad options are named") {
  const tg::Tensor x = tg::zeros({2, 3});
  F::CrossEntropyOptions o;
  o.label_smoothing = 1.5;
  CHECK_THROWS_WITH_AS(
      F::cross_entropy(x, labels({0, 1}), o),
      doctest::Contains("cross_entropy: label_smoothing must be in [0, 1], got 1.5"),
      tg::ValueError);
  o.label_smoothing = 0;
  o.weight = tg::ones({4});
  CHECK_THROWS_WITH_AS(
      F::cross_entropy(x, labels({0, 1}), o),
      doctest::Contains("cross_entropy: weight must be float32 (3), one per class"),
      tg::ShapeError);
  o.weight = tg::Tensor();
  o.ignore_index = 5;
  CHECK_THROWS_WITH_AS(F::cross_entropy(x, labels({0, -100}), o),
                       doctest::Contains("target -100 at position 1 is out of range for 3 classes "
                                         "(and is not ignore_index 5)"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(F::cross_entropy(tg::zeros({2, 3, 4}), labels({0, 1})),
                       doctest::Contains("cross_entropy: targets for logits [2, 3, 4] must be "
                                         "int64 [2, 4]"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(F::cross_entropy(tg::zeros({3}), labels({0})),
                       doctest::Contains("must be a 0-d int64 class index"), tg::ShapeError);
  F::NLLLossOptions n;
  n.weight = tg::ones({2});
  CHECK_THROWS_WITH_AS(F::nll_loss(x, labels({0, 1}), n),
                       doctest::Contains("nll_loss: weight must be float32 (3)"), tg::ShapeError);
  n.weight = tg::Tensor();
  CHECK_THROWS_WITH_AS(F::nll_loss(x, labels({0, 7}), n),
                       doctest::Contains("nll_loss: target 7 at position 1 is out of range"),
                       tg::ValueError);
}

TEST_CASE("binary cross-entropies: weight and pos_weight scale as torch's, and are checked") {
  tg::Tensor x = leaf({4, 3});
  const tg::Tensor p = tg::sigmoid(leaf({4, 3}, 3)).detach();
  const tg::Tensor t = tg::rand({4, 3}, {.dtype = tg::kFloat64});
  const tg::Tensor w = f64({0.5, 2, 1}), q = f64({3, 1, 0.5});
  tg::Tensor pl = p.clone().requires_grad_();
  for (R r : {R::Mean, R::Sum, R::None}) {
    check_gradient([&] { return F::binary_cross_entropy_with_logits(x, t, r, w, q); }, {x});
    check_gradient([&] { return F::binary_cross_entropy(pl, t, r, w); }, {pl});
  }
  // pos_weight 1 and weight 1 change nothing; weight scales each element.
  const tg::Tensor ones = tg::ones({3}, {.dtype = tg::kFloat64});
  CHECK(F::binary_cross_entropy_with_logits(x, t, R::Sum, ones, ones).item() ==
        doctest::Approx(F::binary_cross_entropy_with_logits(x, t, R::Sum).item()).epsilon(1e-12));
  check_values(F::binary_cross_entropy(p, t, R::None, w),
               (F::binary_cross_entropy(p, t, R::None) * w).to_vector<double>());
  // At x = 0 the gradient is the analytic one, (1 - t) - m / 2 with m = (q - 1) t + 1.
  tg::Tensor z = tg::zeros({1, 3}, {.dtype = tg::kFloat64, .requires_grad = true});
  const tg::Tensor tz = f64({1, 0, 0.5}, {1, 3});
  F::binary_cross_entropy_with_logits(z, tz, R::Sum, tg::Tensor(), q).backward();
  check_values(z.grad(), {0 - 3.0 / 2, 1 - 1.0 / 2, 0.5 - (-0.5 * 0.5 + 1) / 2});
  // The modules carry them.
  CHECK(nn::BCEWithLogitsLoss(R::Sum, w, q)(x, t).item() ==
        doctest::Approx(F::binary_cross_entropy_with_logits(x, t, R::Sum, w, q).item()));
  CHECK(nn::BCELoss(R::Sum, w)(p, t).item() ==
        doctest::Approx(F::binary_cross_entropy(p, t, R::Sum, w).item()));
  CHECK_THROWS_WITH_AS(F::binary_cross_entropy_with_logits(x, t, R::Mean, f64({1, 2})),
                       doctest::Contains("binary_cross_entropy_with_logits: weight of shape [2] "
                                         "does not broadcast to the input's shape [4, 3]"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(F::binary_cross_entropy(p, t, R::Mean, tg::ones({3})),
                       doctest::Contains("binary_cross_entropy: weight is float32 but the input "
                                         "is float64"),
                       tg::ValueError);
  CHECK_THROWS_AS(
      F::binary_cross_entropy_with_logits(x, t, R::Mean, tg::Tensor(), f64({1, 2, 3, 4})),
      tg::ShapeError);
}
