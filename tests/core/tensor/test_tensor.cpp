// Tensor: factories, shared storage and clone, element access, dtype conversion, in-place
// updates and set_data.
#include <sstream>

#include "../helpers.h"

TEST_CASE("tensor: factories fill shape, dtype and values") {
  tg::Tensor z = tg::zeros({2, 3});
  CHECK(z.shape() == tg::Shape{2, 3});
  CHECK(z.dim() == 2);
  CHECK(z.numel() == 6);
  CHECK(z.dtype() == tg::kFloat32);
  check_values(z, {0, 0, 0, 0, 0, 0});
  check_values(tg::ones({2}, {.dtype = tg::kFloat64}), {1, 1});
  check_values(tg::full({3}, 2.5), {2.5, 2.5, 2.5});
  check_values(tg::eye(3), {1, 0, 0, 0, 1, 0, 0, 0, 1});
  check_values(tg::arange(5), {0, 1, 2, 3, 4});
  check_values(tg::arange(1.0, 2.0, 0.25), {1, 1.25, 1.5, 1.75});
  check_values(tg::tensor({1, 2, 3, 4}, {2, 2}), {1, 2, 3, 4});
  CHECK(tg::scalar_tensor(3).dim() == 0);
  CHECK(tg::scalar_tensor(3).item() == 3);
  CHECK(tg::from_vector(std::vector<std::int64_t>{4, 5}).dtype() == tg::kInt64);
  CHECK(tg::zeros({0, 3}).numel() == 0);
}

TEST_CASE("tensor: factories reject bad shapes and ranges") {
  CHECK_THROWS_WITH_AS(tg::tensor({1, 2, 3}, {2, 2}),
                       doctest::Contains("tensor: 3 values do not fill shape [2, 2]"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::zeros({2, -1}), doctest::Contains("negative size"), tg::ShapeError);
  CHECK_THROWS_AS(tg::arange(0.0, 1.0, 0.0), tg::ValueError);
  CHECK_THROWS_AS(tg::randint(3, 3, {2}), tg::ValueError);
}

TEST_CASE("tensor: copies share storage and clone copies") {
  tg::Tensor a = tg::zeros({2});
  tg::Tensor b = a;
  b.set({0}, 5);
  CHECK(a.at({0}) == 5);
  tg::Tensor c = a.clone();
  c.set({1}, 7);
  CHECK(a.at({1}) == 0);
  tg::Tensor r = a.reshape({1, 2});
  r.set({0, 1}, 9);
  CHECK(a.at({1}) == 9);  // reshape is a view
}

TEST_CASE("tensor: element access checks indices and dtypes") {
  tg::Tensor t = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.at({1, 2}) == 6);
  CHECK(t.at({-1, -1}) == 6);
  CHECK(t.size(-1) == 3);
  CHECK(t.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(t.data<float>()[4] == 5);
  CHECK_THROWS_WITH_AS(t.at({2, 0}),
                       doctest::Contains("at: index 2 is out of range for dim 0 of size 2"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(t.at({0}), doctest::Contains("index has 1 entries"), tg::ValueError);
  CHECK_THROWS_WITH_AS(t.item(), doctest::Contains("item: the tensor has 6 elements"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(t.data<double>(),
                       doctest::Contains("data: the tensor is float32, asked for float64"),
                       tg::ValueError);
  CHECK_THROWS_AS(tg::Tensor().shape(), tg::StateError);
}

TEST_CASE("tensor: to() converts between dtypes and keeps values") {
  tg::Tensor d = tg::tensor({1.5, -2.25}).to(tg::kFloat64);
  CHECK(d.dtype() == tg::kFloat64);
  check_values(d, {1.5, -2.25});
  tg::Tensor i = tg::tensor({1.7, -2.2}).to(tg::kInt64);
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2});  // truncation
  tg::Tensor f = i.to(tg::kFloat32);
  check_values(f, {1, -2});
}

TEST_CASE("tensor: to() between float types passes the gradient back") {
  tg::Tensor x = leaf({3, 2});
  // The float32 leg rounds, so the step must be large enough to see past it.
  const tg::GradcheckOptions loose{.eps = 1e-2, .atol = 1e-4, .rtol = 1e-4};
  const auto r =
      tg::gradcheck([&] { return x.to(tg::kFloat32).to(tg::kFloat64) * 2.0; }, {x}, loose);
  INFO(r.message);
  CHECK(r.ok);
  tg::Tensor w = leaf({3, 2});
  (w.to(tg::kFloat32) * 3.0).sum().backward();
  check_values(w.grad(), {3, 3, 3, 3, 3, 3});
}

TEST_CASE("tensor: in-place updates are refused on tensors that require grad") {
  tg::Tensor w = tg::zeros({2}, {.requires_grad = true});
  CHECK_THROWS_WITH_AS(w.fill_(1),
                       doctest::Contains("fill_: in-place update of a tensor that requires grad"),
                       tg::StateError);
  {
    tg::NoGradGuard no_grad;
    w.fill_(1).mul_(3).add_(tg::tensor({1, 2}), 0.5);
  }
  check_values(w, {3.5, 4});
  tg::Tensor m = tg::zeros({2, 2});
  m.copy_(tg::tensor({1, 2}));  // broadcasts like torch's copy_
  check_values(m, {1, 2, 1, 2});
  CHECK_THROWS_AS(m.copy_(tg::tensor({1, 2, 3})), tg::ShapeError);
}

TEST_CASE("clone: copies storage and passes the gradient through") {
  tg::Tensor x = leaf({3, 4});
  tg::Tensor c = x.clone();
  CHECK(c.data<double>() != x.data<double>());
  CHECK(c.grad_fn() == "clone");
  check_gradient([&] { return x.clone() * x; }, {x});
}

TEST_CASE("set_data: a leaf takes new data and every handle sees it") {
  tg::Tensor w = tg::ones({2, 3}, {.requires_grad = true});
  tg::Tensor alias = w;
  (w * 2.0).sum().backward();
  REQUIRE(w.grad().defined());
  w.set_data(tg::zeros({2, 3}, {.dtype = tg::kFloat64}));
  CHECK(alias.dtype() == tg::kFloat64);
  CHECK(alias.is_same(w));
  CHECK(alias.requires_grad());
  CHECK_FALSE(w.grad().defined());  // a float32 gradient no longer fits
  CHECK(w.sum().item() == 0);
  CHECK_THROWS_WITH_AS((w * 2.0).set_data(w), doctest::Contains("set_data: only leaves"),
                       tg::StateError);
  CHECK_THROWS_AS(w.set_data(tg::zeros({2}, {.dtype = tg::kInt64})), tg::ValueError);
  CHECK_FALSE(w.is_same(w.detach()));
}

TEST_CASE("copy_: a shape that does not broadcast changes nothing, not even the version") {
  tg::Tensor a = leaf({2, 3});
  tg::Tensor loss = (a * a).sum();
  {
    tg::NoGradGuard no_grad;
    CHECK_THROWS_AS(a.copy_(tg::zeros({4})), tg::ShapeError);
  }
  loss.backward();  // a's version is unchanged, so backward may still read it
  CHECK(a.grad().defined());
}
