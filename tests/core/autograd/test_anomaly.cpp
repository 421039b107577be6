// Anomaly mode: the op that made a NaN or Inf is named.
#include <thread>

#include "../helpers.h"

TEST_CASE("autograd: anomaly mode names the op that made a NaN") {
  tg::Tensor x = leaf_of({-1.0, 1.0});
  {
    tg::DetectAnomalyGuard anomaly;
    CHECK_THROWS_WITH_AS(tg::log(x), doctest::Contains("anomaly: op 'log'"), tg::AnomalyError);
    // Forward finite, backward infinite: d sqrt(x)/dx at 0.
    tg::Tensor z = leaf_of({0.0, 1.0});
    tg::Tensor y = tg::sqrt(z).sum();
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("op 'sqrt' (tape entry #"),
                         tg::AnomalyError);
  }
  CHECK_FALSE(tg::is_anomaly_enabled());
  CHECK_NOTHROW(tg::log(x));  // NaN allowed without anomaly mode
  CHECK(tg::tape_stats().entries == 0);
}
