// sort, argsort, topk: torch's order (NaN largest, stable among equals), gradients to the
// chosen elements, and the errors.
#include <algorithm>
#include <numeric>

#include "../helpers.h"

namespace {
std::vector<std::int64_t> ints(const tg::Tensor &t) { return t.to_vector<std::int64_t>(); }
}  // namespace

TEST_CASE("sort/topk: NaN counts as the largest value, as torch 1.13's") {
  // Expected values and indices printed by torch 1.13 for this input.
  const tg::Tensor x = tg::tensor({1, NAN, 3, 2, NAN, 0}, {}, {.dtype = tg::kFloat64});
  const auto up_up_i = tg::sort(x);
  const tg::Tensor &up = up_up_i.first, &up_i = up_up_i.second;
  CHECK(ints(up_i) == std::vector<std::int64_t>{5, 0, 3, 2, 1, 4});
  CHECK(std::isnan(up.at({4})));
  const auto down_down_i = tg::sort(x, 0, true);
  const tg::Tensor &down = down_down_i.first, &down_i = down_down_i.second;
  CHECK(ints(down_i) == std::vector<std::int64_t>{1, 4, 2, 3, 0, 5});
  CHECK(down.at({2}) == 3);
  CHECK(ints(tg::topk(x, 3).second) == std::vector<std::int64_t>{1, 4, 2});
  CHECK(ints(tg::topk(x, 3, 0, false).second) == std::vector<std::int64_t>{5, 0, 3});
}

TEST_CASE("sort/argsort: equal values keep their order, ascending and descending") {
  const tg::Tensor t = tg::tensor({2, 1, 2, 0, 1, 2});
  CHECK(ints(tg::argsort(t)) == std::vector<std::int64_t>{3, 1, 4, 0, 2, 5});
  CHECK(ints(tg::argsort(t, -1, true)) == std::vector<std::int64_t>{0, 2, 5, 1, 4, 3});
  // topk: ties go to the earlier index (torch's own order among ties is an artifact of its
  // selection; the values agree).
  const auto v_i = tg::topk(t, 4);
  const tg::Tensor &v = v_i.first, &i = v_i.second;
  check_values(v, {2, 2, 2, 1});
  CHECK(ints(i) == std::vector<std::int64_t>{0, 2, 5, 1});
}

TEST_CASE("sort/topk: along any dim, int64 too, and on 0-d and empty tensors") {
  const tg::Tensor x = tg::tensor({3, 1, 2, 9, 7, 8}, {2, 3}, {.dtype = tg::kInt64});
  const auto v0_i0 = tg::sort(x, 0, true);
  const tg::Tensor &v0 = v0_i0.first, &i0 = v0_i0.second;
  CHECK(v0.dtype() == tg::kInt64);
  CHECK(ints(v0) == std::vector<std::int64_t>{9, 7, 8, 3, 1, 2});
  CHECK(ints(i0) == std::vector<std::int64_t>{1, 1, 1, 0, 0, 0});
  const auto v1_i1 = tg::topk(x, 2, 1);
  const tg::Tensor &v1 = v1_i1.first, &i1 = v1_i1.second;
  CHECK(v1.shape() == tg::Shape{2, 2});
  CHECK(ints(v1) == std::vector<std::int64_t>{3, 2, 9, 8});
  CHECK(ints(i1) == std::vector<std::int64_t>{0, 2, 0, 2});
  const auto s_si = tg::sort(tg::full({}, 4.0));
  const tg::Tensor &s = s_si.first, &si = s_si.second;
  CHECK(s.shape() == tg::Shape{});
  CHECK(s.item() == 4.0);
  CHECK(ints(si) == std::vector<std::int64_t>{0});
  const auto e_ei = tg::topk(tg::zeros({3, 4}), 0, 1);
  const tg::Tensor &e = e_ei.first, &ei = e_ei.second;
  CHECK(e.shape() == tg::Shape{3, 0});
  CHECK(ei.shape() == tg::Shape{3, 0});
  CHECK(tg::sort(tg::zeros({0, 5}), 0).first.shape() == tg::Shape{0, 5});
}

TEST_CASE("sort/topk: gradients match finite differences") {
  tg::Tensor x = leaf({3, 4, 5}, 11);
  for (std::int64_t dim : {0, 1, 2, -1})
    for (bool descending : {false, true}) {
      CAPTURE(dim);
      CAPTURE(descending);
      check_gradient([&] { return tg::sort(x, dim, descending).first; }, {x});
    }
  for (std::int64_t k : {0, 1, 3})
    for (bool largest : {false, true}) {
      CAPTURE(k);
      CAPTURE(largest);
      check_gradient([&] { return tg::topk(x, k, 1, largest).first; }, {x});
    }
  // The gradient goes to the chosen elements only.
  tg::Tensor w = leaf_of({0.5, 3.0, -1.0, 2.0});
  tg::topk(w, 2).first.sum().backward();
  check_values(w.grad(), {0, 1, 0, 1});
}

TEST_CASE("sort: many lanes give the same answer on one thread and on two") {
  tg::Generator gen(5);
  const tg::Tensor x = tg::randint(0, 50, {300, 400}, {.dtype = tg::kFloat32}, &gen);
  std::vector<std::int64_t> expected(400 * 300);
  const std::vector<float> xs = x.to_vector<float>();
  for (std::int64_t c = 0; c < 400; ++c) {  // std::stable_sort of each column (dim 0)
    std::vector<std::int64_t> p(300);
    std::iota(p.begin(), p.end(), 0);
    std::stable_sort(p.begin(), p.end(), [&](std::int64_t a, std::int64_t b) {
      return xs[a * 400 + c] > xs[b * 400 + c];
    });
    for (std::int64_t r = 0; r < 300; ++r) expected[r * 400 + c] = p[r];
  }
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    const int before = tg::get_num_threads();
    tg::set_num_threads(threads);
    CHECK(ints(tg::argsort(x, 0, true)) == expected);
    tg::set_num_threads(before);
  }
}

TEST_CASE("sort/topk: bad k and dims are named") {
  CHECK_THROWS_WITH_AS(tg::topk(tg::zeros({2, 3}), 4, 1),
                       doctest::Contains("topk: k = 4 is out of range for dim 1 of size 3"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::topk(tg::zeros({2, 3}), -1), doctest::Contains("topk: k = -1"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::sort(tg::zeros({2, 3}), 2), doctest::Contains("sort: dim out of range"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::argsort(tg::Tensor()), doctest::Contains("sort"), tg::Error);
}
