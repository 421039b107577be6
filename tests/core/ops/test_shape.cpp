// reshape/view, flatten, narrow/slice, index_select, gather, cat, stack.
#include "../helpers.h"

TEST_CASE("reshape/view/flatten: shapes, -1 and shared storage") {
  tg::Tensor x = tg::arange(24);
  CHECK(x.reshape({2, -1, 4}).shape() == tg::Shape{2, 3, 4});
  CHECK(x.view({4, 6}).shape() == tg::Shape{4, 6});
  tg::Tensor y = x.reshape({2, 3, 4});
  CHECK(y.flatten().shape() == tg::Shape{24});
  CHECK(y.flatten(1).shape() == tg::Shape{2, 12});
  CHECK(y.flatten(0, 1).shape() == tg::Shape{6, 4});
  CHECK(y.at({1, 2, 3}) == 23);
}

TEST_CASE("reshape: impossible shapes are named") {
  CHECK_THROWS_WITH_AS(tg::zeros({2, 3}).reshape({4, 2}),
                       doctest::Contains("reshape: cannot view [2, 3] (6 elements) as [4, 2]"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::zeros({2, 3}).reshape({-1, -1}),
                       doctest::Contains("only one size may be -1"), tg::ShapeError);
  CHECK_THROWS_AS(tg::zeros({2, 3}).reshape({4, -1}), tg::ShapeError);
}

TEST_CASE("reshape/flatten: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4});
  check_gradient([&] { return x.reshape({2, 6}) * x.reshape({2, 6}); }, {x});
  check_gradient([&] { return tg::sigmoid(x.reshape({4, 3, 1}).flatten()); }, {x});
}

TEST_CASE("narrow/slice: values") {
  tg::Tensor x = tg::arange(12).reshape({3, 4});
  check_values(x.narrow(0, 1, 2), {4, 5, 6, 7, 8, 9, 10, 11});
  check_values(x.narrow(1, -2, 2), {2, 3, 6, 7, 10, 11});
  check_values(tg::slice(x, 1, 0, 4, 2), {0, 2, 4, 6, 8, 10});
  check_values(tg::slice(x, 0, -1, 100), {8, 9, 10, 11});  // Python's clamping
  CHECK(tg::slice(x, 0, 2, 1).numel() == 0);
}

TEST_CASE("narrow/slice: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4}), y = leaf({2, 3, 4}, 8);
  check_gradient([&] { return x.narrow(1, 1, 2); }, {x});
  check_gradient([&] { return tg::slice(y, 2, 0, 4, 3); }, {y});
  check_gradient([&] { return tg::slice(y, 1, 1, 3); }, {y});
}

TEST_CASE("narrow/slice: out-of-range requests are named") {
  CHECK_THROWS_WITH_AS(tg::zeros({3, 4}).narrow(1, 3, 2),
                       doctest::Contains("narrow: [3, 3 + 2) is out of range for dim 1 of size 4"),
                       tg::ValueError);
  CHECK_THROWS_AS(tg::slice(tg::zeros({3}), 0, 0, 3, 0), tg::ValueError);
}

TEST_CASE("index_select: rows of a batch, repeats allowed") {
  tg::Tensor x = tg::arange(12).reshape({4, 3});
  tg::Tensor idx = tg::from_vector(std::vector<std::int64_t>{3, 0, 3});
  check_values(x.index_select(0, idx), {9, 10, 11, 0, 1, 2, 9, 10, 11});
  check_values(x.index_select(1, tg::from_vector(std::vector<std::int64_t>{2})), {2, 5, 8, 11});
  tg::Tensor w = leaf({4, 3});
  check_gradient([&] { return w.index_select(0, idx); }, {w});
  check_gradient([&] { return w.index_select(1, idx.narrow(0, 1, 1)); }, {w});
}

TEST_CASE("index_select: bad indices are named") {
  tg::Tensor x = tg::zeros({4, 3});
  CHECK_THROWS_WITH_AS(
      x.index_select(0, tg::from_vector(std::vector<std::int64_t>{1, 4})),
      doctest::Contains("index_select: index 4 at position 1 is out of range for dim 0 of size 4"),
      tg::ValueError);
  CHECK_THROWS_WITH_AS(x.index_select(0, tg::tensor({1})), doctest::Contains("index must be int64"),
                       tg::ValueError);
}

TEST_CASE("gather: picks one entry per row, as class-index losses need") {
  tg::Tensor logp = tg::arange(12).reshape({4, 3});
  tg::Tensor labels = tg::from_vector(std::vector<std::int64_t>{2, 0, 1, 2}, {4, 1});
  check_values(logp.gather(1, labels), {2, 3, 7, 11});
  tg::Tensor idx0 = tg::from_vector(std::vector<std::int64_t>{3, 0, 1}, {1, 3});
  check_values(logp.gather(0, idx0), {9, 1, 5});
  tg::Tensor w = leaf({4, 3});
  check_gradient([&] { return w.gather(1, labels); }, {w});
  tg::Tensor rep = tg::from_vector(std::vector<std::int64_t>{1, 1, 0, 2, 2, 2}, {2, 3});
  check_gradient([&] { return w.gather(1, rep); }, {w});  // repeats accumulate
}

TEST_CASE("gather: bad indices and shapes are named") {
  tg::Tensor x = tg::zeros({4, 3});
  CHECK_THROWS_WITH_AS(
      x.gather(1, tg::from_vector(std::vector<std::int64_t>{0, 3}, {2, 1})),
      doctest::Contains("gather: index 3 at position 1 is out of range for dim 1 of size 3"),
      tg::ValueError);
  CHECK_THROWS_WITH_AS(x.gather(1, tg::from_vector(std::vector<std::int64_t>{0, 1})),
                       doctest::Contains("gather: index must have x's rank"), tg::ShapeError);
}

TEST_CASE("cat/stack: values along each dim") {
  tg::Tensor a = tg::tensor({1, 2, 3, 4}, {2, 2}), b = tg::tensor({5, 6}, {1, 2});
  check_values(tg::cat({a, b}, 0), {1, 2, 3, 4, 5, 6});
  check_values(tg::cat({a, b.t()}, 1), {1, 2, 5, 3, 4, 6});
  tg::Tensor s = tg::stack({a, a * 2.0}, 0);
  CHECK(s.shape() == tg::Shape{2, 2, 2});
  check_values(s, {1, 2, 3, 4, 2, 4, 6, 8});
  tg::Tensor s2 = tg::stack({a, a * 2.0}, 2);
  CHECK(s2.shape() == tg::Shape{2, 2, 2});
  check_values(s2, {1, 2, 2, 4, 3, 6, 4, 8});
}

TEST_CASE("cat/stack: gradient matches finite differences") {
  tg::Tensor a = leaf({3, 4}), b = leaf({2, 4}, 8), c = leaf({3, 2}, 9), d = leaf({3, 4}, 10);
  check_gradient([&] { return tg::cat({a, b}, 0); }, {a, b});
  check_gradient([&] { return tg::cat({a, c, a}, 1); }, {a, c});
  check_gradient([&] { return tg::stack({a, d}, 1); }, {a, d});
}

TEST_CASE("cat/stack: mismatched inputs are named") {
  CHECK_THROWS_WITH_AS(tg::cat({tg::zeros({2, 2}), tg::zeros({2, 3})}, 0),
                       doctest::Contains("cat: tensor 1 has shape [2, 3], tensor 0 has [2, 2]"),
                       tg::ShapeError);
  CHECK_THROWS_AS(tg::cat({}, 0), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::stack({tg::zeros({2}), tg::zeros({3})}),
                       doctest::Contains("stack: tensor 1 has shape [3]"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::cat({tg::zeros({2}), tg::zeros({2}, {.dtype = tg::kFloat64})}),
                       doctest::Contains("cat: tensor 1 is float64"), tg::ValueError);
}

TEST_CASE("narrow: a length whose end overflows int64 is out of range, not empty") {
  CHECK_THROWS_WITH_AS(tg::zeros({4}).narrow(0, 2, INT64_MAX),
                       doctest::Contains("narrow: [2, 2 + 9223372036854775807) is out of range"),
                       tg::ValueError);
  CHECK_THROWS_AS(tg::zeros({4}).narrow(0, INT64_MAX, 1), tg::ValueError);
  CHECK(tg::zeros({4}).narrow(0, 4, 0).numel() == 0);  // an empty slice at the end is fine
}

TEST_CASE("shapes: an element count that overflows int64 is refused everywhere") {
  const std::int64_t big = (std::int64_t{1} << 62) + 1;
  CHECK_THROWS_WITH_AS(
      tg::zeros({big, 4}),
      doctest::Contains("shape [4611686018427387905, 4] has more than 2^63 - 1 elements"),
      tg::ShapeError);
  CHECK_THROWS_AS(tg::empty({big, 2, 2}), tg::ShapeError);
  CHECK_THROWS_AS(tg::full({big, 4}, 1.0), tg::ShapeError);
  // 4 elements: (2^62 + 1) * 4 wraps to 4, which must not pass for a view of 4 elements.
  tg::Tensor x = tg::arange(4);
  CHECK_THROWS_AS(x.reshape({big, 4}), tg::ShapeError);
  CHECK_THROWS_AS(x.reshape({-1, big, 4}), tg::ShapeError);
  CHECK_THROWS_AS(x.view({big, 4}), tg::ShapeError);
  // Fits int64 as a count, but not as bytes.
  CHECK_THROWS_WITH_AS(tg::zeros({std::int64_t{1} << 60, 4}, {.dtype = tg::kFloat64}),
                       doctest::Contains("needs more bytes than memory can address"),
                       tg::ShapeError);
  CHECK(tg::zeros({0, big, 4}).numel() == 0);  // zero elements never overflow
}

TEST_CASE("creation: a double becomes an int64 element only when it fits") {
  CHECK_THROWS_WITH_AS(tg::full({2}, 1e300, {.dtype = tg::kInt64}),
                       doctest::Contains("full: 1e+300 is outside int64's range"), tg::ValueError);
  CHECK_THROWS_AS(tg::scalar_tensor(std::nan(""), {.dtype = tg::kInt64}), tg::ValueError);
  CHECK_THROWS_AS(tg::tensor({1, 1e19}, {}, {.dtype = tg::kInt64}), tg::ValueError);
  tg::Tensor t = tg::zeros({2}, {.dtype = tg::kInt64});
  CHECK_THROWS_AS(t.set({0}, -1e19), tg::ValueError);
  CHECK_THROWS_AS(t.fill_(INFINITY), tg::ValueError);
  t.set({1}, -2.7);  // truncates toward zero, as PyTorch
  CHECK(t.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, -2});
  CHECK(tg::full({1}, 9.2e18, {.dtype = tg::kInt64}).to_vector<std::int64_t>()[0] ==
        std::int64_t{9200000000000000000});
}

TEST_CASE("to: a float that int64 cannot hold is refused by position, others truncate") {
  tg::Tensor x = tg::tensor({1.9, -2.5, 3.0}, {}, {.dtype = tg::kFloat64});
  CHECK(x.to(tg::kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2, 3});
  for (double bad : std::initializer_list<double>{NAN, INFINITY, -1e19, 9223372036854775808.0}) {
    INFO(bad);
    tg::Tensor y = tg::tensor({0.0, bad}, {}, {.dtype = tg::kFloat64});
    CHECK_THROWS_WITH_AS(y.to(tg::kInt64), doctest::Contains("to: element 1 is "), tg::ValueError);
    CHECK_THROWS_AS(y.to(tg::kFloat32).to(tg::kInt64), tg::ValueError);
  }
  CHECK(tg::tensor({-9.2e18}).to(tg::kFloat64).to(tg::kInt64).numel() == 1);
}

TEST_CASE("unsqueeze/squeeze: add and remove dims of size 1") {
  const tg::Tensor x = tg::zeros({2, 3});
  CHECK(tg::unsqueeze(x, 0).shape() == tg::Shape{1, 2, 3});
  CHECK(tg::unsqueeze(x, 2).shape() == tg::Shape{2, 3, 1});
  CHECK(x.unsqueeze(-1).shape() == tg::Shape{2, 3, 1});
  CHECK(tg::unsqueeze(x, -3).shape() == tg::Shape{1, 2, 3});
  CHECK(tg::unsqueeze(tg::scalar_tensor(1), 0).shape() == tg::Shape{1});
  const tg::Tensor y = tg::zeros({1, 2, 1, 3});
  CHECK(tg::squeeze(y).shape() == tg::Shape{2, 3});
  CHECK(y.squeeze(2).shape() == tg::Shape{1, 2, 3});
  CHECK(tg::squeeze(y, 1).shape() == tg::Shape{1, 2, 1, 3});  // size 2: unchanged, as torch
  CHECK(tg::squeeze(tg::zeros({1, 1})).shape() == tg::Shape{});
  CHECK_THROWS_WITH_AS(tg::unsqueeze(x, 3), doctest::Contains("unsqueeze: dim out of range"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::squeeze(x, 2), doctest::Contains("squeeze: dim out of range"),
                       tg::ValueError);
  tg::Tensor l = leaf({2, 3});
  check_gradient([&] { return tg::squeeze(tg::unsqueeze(l, 1) * 2, 1); }, {l});
}

TEST_CASE("expand/broadcast_to: stretch sizes of 1, -1 keeps, new dims lead") {
  const tg::Tensor x = tg::tensor({1, 2, 3}, {3, 1});
  const tg::Tensor y = tg::expand(x, {2, 3, 4});
  CHECK(y.shape() == tg::Shape{2, 3, 4});
  CHECK(y.at({1, 2, 3}) == 3);
  CHECK(y.at({0, 1, 0}) == 2);
  CHECK(x.expand({-1, 2}).shape() == tg::Shape{3, 2});
  CHECK(tg::broadcast_to(x, {3, 5}).shape() == tg::Shape{3, 5});
  CHECK(tg::expand(x, {0, 3, 1}).shape() == tg::Shape{0, 3, 1});
  CHECK_THROWS_WITH_AS(tg::expand(x, {4, 2}),
                       doctest::Contains("expand: the input [3, 1] cannot expand to [4, 2]: size 3 "
                                         "at dim 0 is neither 1 nor 4"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::expand(x, {2}), doctest::Contains("has fewer dims than the input"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::expand(x, {-1, 3, 1}),
                       doctest::Contains("is not allowed in a new leading dim"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::expand(x, {3, -2}), doctest::Contains("is negative"), tg::ShapeError);
  CHECK_THROWS_AS(tg::expand(x, {INT64_MAX, 3, 2}), tg::Error);
  tg::Tensor l = leaf({3, 1});
  check_gradient([&] { return tg::expand(l, {2, 3, 4}); }, {l});
}

TEST_CASE("repeat: tiles along each dim, adding leading dims") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4}, {2, 2});
  const tg::Tensor y = tg::repeat(x, {2, 3});
  CHECK(y.shape() == tg::Shape{4, 6});
  check_values(tg::narrow(y, 0, 0, 1), {1, 2, 1, 2, 1, 2});
  check_values(tg::narrow(y, 0, 3, 1), {3, 4, 3, 4, 3, 4});
  CHECK(x.repeat({2, 1, 1}).shape() == tg::Shape{2, 2, 2});
  CHECK(tg::repeat(x, {0, 1}).shape() == tg::Shape{0, 2});
  check_values(tg::repeat(tg::tensor({5, 6}), {2}), {5, 6, 5, 6});
  CHECK_THROWS_WITH_AS(tg::repeat(x, {2}),
                       doctest::Contains("repeat: 1 repeats given for a tensor of rank 2"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::repeat(x, {1, -1}),
                       doctest::Contains("repeat: repeats must be non-negative"), tg::ValueError);
  tg::Tensor l = leaf({2, 3});
  check_gradient([&] { return tg::repeat(l, {2, 1, 3}); }, {l});
}

TEST_CASE("split/chunk: pieces along a dim, as torch cuts them") {
  const tg::Tensor x = tg::arange(7);
  auto sizes = [](const std::vector<tg::Tensor>& ps) {
    std::vector<std::int64_t> r;
    for (const auto& p : ps) r.push_back(p.numel());
    return r;
  };
  CHECK(sizes(tg::split(x, 3)) == std::vector<std::int64_t>{3, 3, 1});
  CHECK(sizes(tg::split(x, 7)) == std::vector<std::int64_t>{7});
  CHECK(sizes(tg::split(x, 10)) == std::vector<std::int64_t>{7});
  CHECK(sizes(tg::split(x, std::vector<std::int64_t>{2, 0, 5})) ==
        std::vector<std::int64_t>{2, 0, 5});
  CHECK(sizes(tg::chunk(x, 3)) == std::vector<std::int64_t>{3, 3, 1});
  CHECK(sizes(tg::chunk(tg::arange(5), 3)) == std::vector<std::int64_t>{2, 2, 1});
  CHECK(sizes(tg::chunk(tg::arange(5), 6)) == std::vector<std::int64_t>{1, 1, 1, 1, 1});
  CHECK(sizes(tg::chunk(tg::zeros({0}), 3)) == std::vector<std::int64_t>{0, 0, 0});
  check_values(tg::split(x, 3)[1], {3, 4, 5});
  CHECK(tg::chunk(tg::zeros({2, 6}), 3, 1)[2].shape() == tg::Shape{2, 2});
  CHECK_THROWS_WITH_AS(tg::split(x, 0), doctest::Contains("split: split_size must be positive"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::split(x, std::vector<std::int64_t>{2, 3}),
                       doctest::Contains("split: the sizes sum to 5 but dim 0 has size 7"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::chunk(x, 0), doctest::Contains("chunk: chunks must be positive"),
                       tg::ValueError);
  CHECK_THROWS_AS(tg::split(tg::scalar_tensor(1), 1), tg::ShapeError);
  tg::Tensor l = leaf({5, 3});
  check_gradient(
      [&] {
        const auto ps = tg::chunk(l, 2, 0);
        return ps[0].sum() * 2 + ps[1].sum(0).sum() * 3;
      },
      {l});
}

TEST_CASE("one_hot: int64 rows of classes, no gradient") {
  const tg::Tensor i = tg::tensor({2, 0, 1}, {}, {.dtype = tg::kInt64});
  const tg::Tensor y = tg::one_hot(i, 4);
  CHECK(y.dtype() == tg::kInt64);
  CHECK(y.shape() == tg::Shape{3, 4});
  check_values(y, {0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0});
  CHECK(tg::one_hot(i).shape() == tg::Shape{3, 3});
  CHECK(tg::one_hot(tg::zeros({0}, {.dtype = tg::kInt64}), 3).shape() == tg::Shape{0, 3});
  CHECK_THROWS_WITH_AS(
      tg::one_hot(i, 2),
      doctest::Contains("one_hot: index 2 at position 0 is out of range for 2 classes"),
      tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::one_hot(tg::tensor({1, -1}, {}, {.dtype = tg::kInt64})),
                       doctest::Contains("one_hot: index -1 at position 1 is out of range"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::one_hot(tg::zeros({0}, {.dtype = tg::kInt64})),
                       doctest::Contains("one_hot: cannot infer num_classes"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::one_hot(tg::zeros({2})), doctest::Contains("one_hot"), tg::ValueError);
}

TEST_CASE("one_hot: an inferred class count that would not fit is refused, not wrapped") {
  CHECK_THROWS_WITH_AS(tg::one_hot(tg::from_vector(std::vector<std::int64_t>{0, INT64_MAX})),
                       doctest::Contains("one_hot: num_classes"), tg::Error);
}
