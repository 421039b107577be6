// Shape: the inline vector of sizes. The cases cross the inline limit (6 dims) in every
// direction, since the heap spill is the path ordinary tensors never take.
#include <utility>
#include <vector>

#include "../helpers.h"

namespace {
std::vector<std::int64_t> as_vector(const tg::Shape& s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("shape: builds, compares and converts as the vector it replaced") {
  const tg::Shape s{2, 3, 4};
  CHECK(s.size() == 3);
  CHECK(s[1] == 3);
  CHECK(s.front() == 2);
  CHECK(s.back() == 4);
  CHECK(tg::Shape().empty());
  CHECK(tg::Shape(3, 7) == tg::Shape{7, 7, 7});
  const std::vector<std::int64_t> v{5, 6};
  const tg::Shape from_vec = v;
  CHECK(from_vec == tg::Shape{5, 6});
  const std::vector<std::int64_t> back = s;
  CHECK(back == std::vector<std::int64_t>{2, 3, 4});
  CHECK(tg::Shape{1, 2} < tg::Shape{1, 3});
  CHECK(tg::Shape{1, 2} < tg::Shape{1, 2, 0});
  CHECK(tg::Shape{4} != tg::Shape{4, 1});
  CHECK_THROWS_AS(s.at(3), std::out_of_range);
}

TEST_CASE("shape: grows past the inline dims and keeps every value") {
  tg::Shape s;
  for (std::int64_t d = 1; d <= 20; ++d) s.push_back(d);
  REQUIRE(s.size() == 20);
  CHECK(s.capacity() >= 20);
  for (std::int64_t d = 1; d <= 20; ++d) CHECK(s[static_cast<std::size_t>(d - 1)] == d);
  tg::Shape copy = s;  // heap to fresh
  CHECK(copy == s);
  tg::Shape small{9};
  small = s;  // heap into inline
  CHECK(small == s);
  s = tg::Shape{1, 2};  // inline into heap-backed: stays correct
  CHECK(s == tg::Shape{1, 2});
  s.resize(8, 5);
  CHECK(as_vector(s) == std::vector<std::int64_t>{1, 2, 5, 5, 5, 5, 5, 5});
  s.pop_back();
  s.resize(2);
  CHECK(s == tg::Shape{1, 2});
}

TEST_CASE("shape: moves take the heap block or copy the inline dims") {
  tg::Shape big(10, 3);
  const std::int64_t* block = big.data();
  tg::Shape moved = std::move(big);
  CHECK(moved.data() == block);  // the block changed hands, nothing was copied
  CHECK(moved == tg::Shape(10, 3));
  CHECK(big.empty());  // NOLINT(bugprone-use-after-move): a moved-from shape is empty
  big.push_back(4);    // and usable
  CHECK(big == tg::Shape{4});

  tg::Shape inl{1, 2, 3};
  tg::Shape inl_moved = std::move(inl);
  CHECK(inl_moved == tg::Shape{1, 2, 3});
  CHECK(inl_moved.data() != inl.data());  // NOLINT(bugprone-use-after-move)
  moved = std::move(inl_moved);           // inline into a heap-backed one
  CHECK(moved == tg::Shape{1, 2, 3});
  swap(moved, big);
  CHECK(moved == tg::Shape{4});
  CHECK(big == tg::Shape{1, 2, 3});
}

TEST_CASE("shape: insert and erase in the middle, across the inline limit") {
  tg::Shape s{1, 2, 3, 4, 5};
  s.insert(s.begin() + 1, 9);
  CHECK(as_vector(s) == std::vector<std::int64_t>{1, 9, 2, 3, 4, 5});
  s.insert(s.begin(), {7, 8});  // now 8 dims: spilled
  CHECK(as_vector(s) == std::vector<std::int64_t>{7, 8, 1, 9, 2, 3, 4, 5});
  const std::vector<std::int64_t> tail{6, 6};
  s.insert(s.end(), tail.begin(), tail.end());
  CHECK(s.size() == 10);
  CHECK(s.back() == 6);
  s.erase(s.begin(), s.begin() + 2);
  CHECK(as_vector(s) == std::vector<std::int64_t>{1, 9, 2, 3, 4, 5, 6, 6});
  s.erase(s.begin() + 1);
  CHECK(tg::erase(s, 6) == 2);
  CHECK(as_vector(s) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  s.insert(s.begin() + 2, 3, 0);
  CHECK(as_vector(s) == std::vector<std::int64_t>{1, 2, 0, 0, 0, 3, 4, 5});
}

TEST_CASE("shape: tensors of more dims than the inline limit work end to end") {
  tg::Tensor x = tg::arange(256, {.dtype = tg::kFloat64}).reshape({2, 2, 2, 2, 2, 2, 2, 2});
  CHECK(x.dim() == 8);
  CHECK(x.shape() == tg::Shape(8, 2));
  tg::Tensor w = tg::ones({2, 2, 2, 2, 2, 2, 2, 2}, {.dtype = tg::kFloat64, .requires_grad = true});
  (x * w).sum(7).sum().backward();
  CHECK(w.grad().shape() == tg::Shape(8, 2));
  CHECK(w.grad().sum().item() == doctest::Approx(255.0 * 256 / 2));
  CHECK(x.permute({7, 6, 5, 4, 3, 2, 1, 0}).reshape({256}).at({1}) == 128);
}
