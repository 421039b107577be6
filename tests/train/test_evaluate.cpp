// evaluate(): every metric against a hand computation on a model whose logits are its inputs.
#include <limits>

#include "helpers.h"

namespace {
// Seven rows of logits over three classes, with their target classes: three argmaxes right,
// a tie (row 6), and targets ranked second (rows 5 and 6) and third.
const std::vector<double> kLogits = {3, 1, 0, 0, 2, 1, 1, 0, 2, 0, 1, 3, 2, 1, 0, 2, 3, 0, 1, 1, 0};
const std::vector<std::int64_t> kTargets = {0, 1, 1, 2, 2, 0, 1};

double hand_cross_entropy() {
  double sum = 0;
  for (std::size_t i = 0; i < kTargets.size(); ++i) {
    const double* r = &kLogits[3 * i];
    const double m = std::max({r[0], r[1], r[2]});
    sum +=
        m + std::log(std::exp(r[0] - m) + std::exp(r[1] - m) + std::exp(r[2] - m)) - r[kTargets[i]];
  }
  return sum / static_cast<double>(kTargets.size());
}
}  // namespace

TEST_CASE("evaluate: loss, accuracy, top-k, per-class accuracy and confusion by hand") {
  nn::Sequential model = identity_model(3);
  data::TensorDataset ds(tg::from_vector(kLogits, {7, 3}, {.dtype = tg::kFloat64}),
                         tg::from_vector(kTargets, {7}));
  data::DataLoader loader(ds, {.batch_size = 4});  // batches of 4 and 3: the mean is by row
  const train::Evaluation e =
      train::evaluate(model, loader,
                      {.metrics = {train::Metric::Accuracy, train::Metric::TopKAccuracy,
                                   train::Metric::PerClassAccuracy, train::Metric::ConfusionMatrix},
                       .top_k = 2});
  CHECK(e.samples == 7);
  CHECK(e.loss == doctest::Approx(hand_cross_entropy()).epsilon(1e-14));
  CHECK(*e.accuracy == doctest::Approx(3.0 / 7));
  CHECK(*e.top_k_accuracy == doctest::Approx(5.0 / 7));
  CHECK(e.confusion == std::vector<std::vector<std::int64_t>>{{1, 1, 0}, {1, 1, 1}, {1, 0, 1}});
  REQUIRE(e.per_class_accuracy.size() == 3);
  CHECK(e.per_class_accuracy[0] == doctest::Approx(0.5));
  CHECK(e.per_class_accuracy[1] == doctest::Approx(1.0 / 3));
  CHECK(e.per_class_accuracy[2] == doctest::Approx(0.5));
  CHECK(!e.mse);
  CHECK(!e.mae);
  const train::Record r = e.record("val_");
  CHECK(r.get("val_loss") == e.loss);
  CHECK(r.get("val_accuracy") == *e.accuracy);
  CHECK(r.get("val_top2_accuracy") == *e.top_k_accuracy);

  // top-1 accuracy is accuracy, ties included.
  const auto top1 =
      train::evaluate(model, loader, {.metrics = {train::Metric::TopKAccuracy}, .top_k = 1});
  CHECK(*top1.top_k_accuracy == *e.accuracy);
}

TEST_CASE("evaluate: MSE and MAE for regression, the default loss is mse_loss") {
  nn::Sequential model = identity_model(2);
  const std::vector<double> x = {1, 2, 3, 4, 5, 6}, y = {1.5, 2, 2, 4, 5, 8};
  data::TensorDataset ds(tg::from_vector(x, {3, 2}), tg::from_vector(y, {3, 2}));
  data::DataLoader loader(ds, {.batch_size = 2});
  const auto e =
      train::evaluate(model, loader, {.metrics = {train::Metric::MSE, train::Metric::MAE}});
  CHECK(*e.mse == doctest::Approx((0.25 + 1 + 4) / 6));
  CHECK(*e.mae == doctest::Approx((0.5 + 1 + 2) / 6));
  CHECK(e.loss == doctest::Approx(*e.mse));
  // A custom loss: the mean absolute error, so loss == mae.
  const auto l1 = train::evaluate(
      model, loader,
      {.metrics = {train::Metric::MAE},
       .loss = [](const tg::Tensor& out, const tg::Tensor& t) { return (out - t).abs().mean(); }});
  CHECK(l1.loss == doctest::Approx(*l1.mae));
  // No metrics asked for: float targets get MSE (int64 targets get accuracy, below).
  const auto plain = train::evaluate(model, loader);
  CHECK(*plain.mse == *e.mse);
  CHECK(!plain.accuracy);
}

TEST_CASE("evaluate: eval mode for the run, the mode restored, nothing left on the tape") {
  nn::Sequential model = identity_model(3);
  data::TensorDataset ds(tg::from_vector(kLogits, {7, 3}), tg::from_vector(kTargets, {7}));
  data::DataLoader loader(ds, {.batch_size = 7, .shuffle = true, .seed = 3});
  const std::size_t entries = tg::tape_stats().entries;
  loader.set_epoch(5);
  // Dropout would change the logits (and the accuracy) if evaluate left training mode on.
  for (int i = 0; i < 3; ++i)
    CHECK(*train::evaluate(model, loader).accuracy == doctest::Approx(3.0 / 7));
  CHECK(model.is_training());
  CHECK(loader.epoch() == 5);  // a shuffled loader's order is not advanced
  model.eval();
  train::evaluate(model, loader);
  CHECK(!model.is_training());
  CHECK(tg::tape_stats().entries == entries);
}

TEST_CASE("evaluate: a class without samples has NaN accuracy, bad targets are named") {
  nn::Sequential model = identity_model(3);
  data::TensorDataset two(tg::tensor({2.0, 1, 0, 0, 1, 0}, {2, 3}),
                          tg::from_vector(std::vector<std::int64_t>{0, 1}, {2}));
  data::DataLoader loader(two, {.batch_size = 2});
  const auto e = train::evaluate(model, loader, {.metrics = {train::Metric::PerClassAccuracy}});
  CHECK(e.per_class_accuracy[0] == 1);
  CHECK(e.per_class_accuracy[1] == 1);
  CHECK(std::isnan(e.per_class_accuracy[2]));
  CHECK(e.confusion.empty());  // not asked for

  data::TensorDataset floats(tg::tensor({2.0, 1, 0}, {1, 3}), tg::tensor({1.0}, {1}));
  data::DataLoader fl(floats, {.batch_size = 1});
  auto sum = [](const tg::Tensor& o, const tg::Tensor&) { return o.sum(); };
  CHECK_THROWS_WITH_AS(
      train::evaluate(model, fl, {.metrics = {train::Metric::Accuracy}, .loss = sum}),
      doctest::Contains("int64 class targets (N); got outputs [1, 3] and targets [1] of float32"),
      tg::ValueError);
  data::TensorDataset bad(tg::tensor({2.0, 1, 0, 0, 1, 0}, {2, 3}),
                          tg::from_vector(std::vector<std::int64_t>{0, 3}, {2}));
  data::DataLoader bl(bad, {.batch_size = 2});
  CHECK_THROWS_WITH_AS(train::evaluate(model, bl, {.loss = sum}),
                       "evaluate: target 3 in row 1 is not a class of the 3 output columns",
                       tg::ValueError);
  CHECK(model.is_training());  // restored after a throw too
  CHECK_THROWS_WITH_AS(
      train::evaluate(model, loader, {.metrics = {train::Metric::TopKAccuracy}, .top_k = 0}),
      "evaluate: top_k must be >= 1, got 0", tg::ValueError);
}

TEST_CASE("Record: set replaces, get names what is missing") {
  train::Record r{{"epoch", 1}, {"loss", 0.5}};
  r.set("loss", 0.25).set("lr", 0.1);
  CHECK(r.size() == 3);
  CHECK(r.get("loss") == 0.25);
  CHECK(r.find("acc") == nullptr);
  CHECK_THROWS_WITH_AS(r.get("acc"),
                       "no metric named \"acc\" in this record (it has: epoch, loss, lr)",
                       tg::ValueError);
  CHECK(r.str() == "epoch 1, loss 0.25, lr 0.1");
}
