// Collectives on odd sizes and every dtype, against values each rank can compute itself.
#include "../core/helpers.h"

namespace dist = tg::dist;

TEST_CASE("dist: rank and world size") {
  CHECK(dist::world_size() == 2);
  CHECK((dist::rank() == 0 || dist::rank() == 1));
  dist::barrier();
}

TEST_CASE("dist: all_reduce sum, mean, max and min, every dtype, odd sizes") {
  const int r = dist::rank(), w = dist::world_size();
  for (tg::Dtype d : {tg::kFloat32, tg::kFloat64, tg::kInt64}) {
    INFO(tg::dtype_name(d));
    // Element i of rank r holds (r + 1) * (i - 3): sums, maxima and minima follow by hand.
    auto mine = [&] { return (tg::arange(7).to(tg::kFloat64) - 3.0) * (r + 1.0); };
    tg::Tensor s = mine().to(d), mx = mine().to(d), mn = mine().to(d);
    dist::all_reduce(s, dist::ReduceOp::Sum);
    dist::all_reduce(mx, dist::ReduceOp::Max);
    dist::all_reduce(mn, dist::ReduceOp::Min);
    std::vector<double> sum, hi, lo;
    for (int i = 0; i < 7; ++i) {
      sum.push_back((i - 3) * w * (w + 1) / 2.0);
      hi.push_back(i >= 3 ? (i - 3) * w : (i - 3));
      lo.push_back(i >= 3 ? (i - 3) : (i - 3) * w);
    }
    CHECK(s.to(tg::kFloat64).to_vector<double>() == sum);
    CHECK(mx.to(tg::kFloat64).to_vector<double>() == hi);
    CHECK(mn.to(tg::kFloat64).to_vector<double>() == lo);
    if (d != tg::kInt64) {
      tg::Tensor m = mine().to(d);
      dist::all_reduce(m, dist::ReduceOp::Mean);
      std::vector<double> mean;
      for (double v : sum) mean.push_back(v / w);
      CHECK(m.to(tg::kFloat64).to_vector<double>() == mean);
    }
  }
  // Plain numbers: a loss sum and a sample count, as fit sums them.
  double totals[2] = {1.5 * (r + 1), 10.0 + r};
  dist::all_reduce(totals);
  CHECK(totals[0] == 1.5 * w * (w + 1) / 2);
  CHECK(totals[1] == 10.0 * w + w * (w - 1) / 2.0);
  std::vector<double> m{static_cast<double>(r)};
  dist::all_reduce(m, dist::ReduceOp::Max);
  CHECK(m[0] == w - 1);
  tg::Tensor i = tg::zeros({3}, {.dtype = tg::kInt64});
  CHECK_THROWS_WITH_AS(dist::all_reduce(i, dist::ReduceOp::Mean),
                       "all_reduce: Mean of an int64 tensor; use Sum and divide as you mean to",
                       tg::ValueError);
}

TEST_CASE("dist: broadcast, all_gather and reduce_scatter") {
  const int r = dist::rank();
  for (tg::Dtype d : {tg::kFloat32, tg::kFloat64, tg::kInt64}) {
    tg::Tensor b = tg::full({3, 5}, r * 10.0 + 1, {.dtype = d});
    dist::broadcast(b, 1);
    CHECK(b.to(tg::kFloat64).to_vector<double>() == std::vector<double>(15, 11.0));

    tg::Tensor g = dist::all_gather(tg::full({3, 5}, r + 0.5 * (d != tg::kInt64), {.dtype = d}));
    CHECK(g.shape() == tg::Shape{2, 3, 5});
    CHECK(g.to(tg::kFloat64).at({1, 2, 4}) == 1 + 0.5 * (d != tg::kInt64));
    CHECK(g.to(tg::kFloat64).at({0, 0, 0}) == 0.5 * (d != tg::kInt64));

    // Rows 0-1 go to rank 0, rows 2-3 to rank 1; each is the sum over ranks of (r + 1) * row.
    tg::Tensor t = (tg::arange(12).reshape({4, 3}) * (r + 1.0)).to(d);
    tg::Tensor part = dist::reduce_scatter(t, dist::ReduceOp::Sum);
    CHECK(part.shape() == tg::Shape{2, 3});
    std::vector<double> expected;
    for (int k = 0; k < 6; ++k) expected.push_back(3.0 * (r * 6 + k));
    CHECK(part.to(tg::kFloat64).to_vector<double>() == expected);
  }
  CHECK_THROWS_WITH_AS(dist::reduce_scatter(tg::zeros({3, 2})),
                       "reduce_scatter: [3, 2] does not split along dim 0 into 2 equal parts",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(dist::broadcast(tg::zeros({1}), 2), "broadcast: root 2 is not a rank of 2",
                       tg::ValueError);
}
