// eq, ne, lt, le, gt, ge.
#include "../helpers.h"

TEST_CASE("eq/ne/lt/le/gt/ge: 0/1 values with broadcasting and no gradient") {
  tg::Tensor a = tg::tensor({1, 2, 3, 4}, {2, 2});
  tg::Tensor b = tg::tensor({2, 3}, {2});
  check_values(tg::eq(a, b), {0, 0, 0, 0});
  check_values(tg::eq(a, tg::tensor({1, 4}, {2, 1})), {1, 0, 0, 1});
  check_values(tg::ne(a, b), {1, 1, 1, 1});
  check_values(tg::lt(a, b), {1, 1, 0, 0});
  check_values(tg::le(a, b), {1, 1, 0, 0});
  check_values(tg::gt(a, b), {0, 0, 1, 1});
  check_values(tg::ge(a, tg::tensor({3})), {0, 0, 1, 1});
  tg::Tensor w = leaf({2, 2});
  CHECK_FALSE(tg::gt(w, w * 0.5).requires_grad());
  tg::Tensor pred = tg::from_vector(std::vector<std::int64_t>{1, 2, 3});
  tg::Tensor label = tg::from_vector(std::vector<std::int64_t>{1, 0, 3});
  CHECK(tg::eq(pred, label).sum().item() == 2);  // accuracy counting
  CHECK_THROWS_AS(tg::lt(tg::zeros({2}), tg::zeros({3})), tg::ShapeError);
}

TEST_CASE("sign: -1, 0, 1 and no gradient") {
  check_values(tg::sign(tg::tensor({-2.5, 0, 3})), {-1, 0, 1});
  CHECK(tg::sign(tg::from_vector(std::vector<std::int64_t>{-4, 5})).to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{-1, 1});
  CHECK_FALSE(tg::sign(leaf({2})).requires_grad());
}
