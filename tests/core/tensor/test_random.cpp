// Random tensors: manual_seed's reproducibility and randn's moments.
#include <sstream>

#include "../helpers.h"

TEST_CASE("tensor: manual_seed makes random draws reproducible") {
  tg::manual_seed(42);
  auto a = tg::randn({5}).to_vector<float>();
  auto u = tg::rand({5}).to_vector<float>();
  tg::manual_seed(42);
  CHECK(tg::randn({5}).to_vector<float>() == a);
  CHECK(tg::rand({5}).to_vector<float>() == u);
  for (float v : u) CHECK((v >= 0 && v < 1));
  auto p = tg::randperm(10).to_vector<std::int64_t>();
  std::sort(p.begin(), p.end());
  for (int i = 0; i < 10; ++i) CHECK(p[i] == i);
  for (auto v : tg::randint(2, 5, {50}).to_vector<std::int64_t>()) CHECK((v >= 2 && v < 5));
}

TEST_CASE("tensor: randn has mean 0 and standard deviation 1") {
  tg::Generator gen(3);
  tg::Tensor x = tg::randn({20000}, {.dtype = tg::kFloat64}, &gen);
  const double m = x.mean().item();
  const double sd = std::sqrt(((x - m) * (x - m)).mean().item());
  CHECK(std::abs(m) < 0.03);
  CHECK(std::abs(sd - 1) < 0.03);
}
