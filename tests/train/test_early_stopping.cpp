// EarlyStopping on scripted metric sequences: min and max modes, min_delta at its edge, NaN.
#include <limits>

#include "helpers.h"

namespace {
// The index at which step() first says stop, or -1.
int stops_at(train::EarlyStopping& es, const std::vector<double>& values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (es.step(values[i])) return static_cast<int>(i);
  return -1;
}
}  // namespace

TEST_CASE("EarlyStopping: min mode stops after patience epochs without a new best") {
  train::EarlyStopping es({.patience = 2});
  CHECK(stops_at(es, {1.0, 0.9, 0.95, 0.91, 0.8}) == 3);
  CHECK(*es.best() == 0.9);
  CHECK(es.bad_epochs() == 2);
  CHECK(es.stopped());

  train::EarlyStopping late({.patience = 2});
  CHECK(stops_at(late, {1.0, 0.9, 0.95, 0.8, 0.85, 0.85}) == 5);  // 0.8 reset the count
  train::EarlyStopping equal({.patience = 1});
  CHECK(stops_at(equal, {0.5, 0.5}) == 1);  // equal to the best is no improvement
}

TEST_CASE("EarlyStopping: max mode, and min_delta is a strict margin") {
  train::EarlyStopping acc({.monitor = "val_accuracy", .patience = 2, .mode = train::Mode::Max});
  CHECK(stops_at(acc, {0.5, 0.6, 0.6, 0.7, 0.65, 0.7}) == 5);
  CHECK(*acc.best() == 0.7);

  // Binary fractions, so the margins are exact: 0.75 is not below 1 - 0.25, 0.5 is.
  train::EarlyStopping d({.patience = 2, .min_delta = 0.25});
  CHECK(!d.step(1.0));
  CHECK(!d.step(0.75));
  CHECK(d.bad_epochs() == 1);
  CHECK(!d.step(0.5));
  CHECK(d.bad_epochs() == 0);
  CHECK(*d.best() == 0.5);
  CHECK(!d.step(0.25));  // 0.5 - 0.25 exactly: not an improvement
  CHECK(d.step(0.2500001) == true);
  train::EarlyStopping dmax({.patience = 1, .min_delta = 0.25, .mode = train::Mode::Max});
  CHECK(!dmax.step(0.5));
  CHECK(dmax.step(0.75));  // 0.5 + 0.25 exactly: stop
}

TEST_CASE("EarlyStopping: NaN never improves, as a callback it reads the record") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  train::EarlyStopping es({.patience = 2});
  CHECK(stops_at(es, {nan, 1.0, nan, nan}) == 3);
  CHECK(*es.best() == 1.0);

  train::EarlyStopping cb({.monitor = "val_loss", .patience = 1});
  const train::Record r1{{"epoch", 1}, {"val_loss", 0.5}}, r2{{"epoch", 2}, {"val_loss", 0.6}};
  CHECK(cb.on_epoch_end({1, r1}) == train::Signal::Continue);
  CHECK(cb.on_epoch_end({2, r2}) == train::Signal::Stop);
  train::EarlyStopping missing({.monitor = "val_acc"});
  CHECK_THROWS_WITH_AS(missing.on_epoch_end({1, r1}),
                       "no metric named \"val_acc\" in this record (it has: epoch, val_loss)",
                       tg::ValueError);
}

TEST_CASE("EarlyStopping: bad options are named") {
  CHECK_THROWS_WITH_AS(train::EarlyStopping({.patience = 0}),
                       "EarlyStopping: patience must be >= 1, got 0", tg::ValueError);
  CHECK_THROWS_WITH_AS(train::EarlyStopping({.min_delta = -0.1}),
                       "EarlyStopping: min_delta must be finite and >= 0, got -0.1",
                       tg::ValueError);
}
