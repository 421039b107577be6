// cumsum: running sums along a dim.
#include "../helpers.h"

TEST_CASE("cumsum: along each dim, int64 stays int64") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(tg::cumsum(x, 1), {1, 3, 6, 4, 9, 15});
  check_values(tg::cumsum(x, 0), {1, 2, 3, 5, 7, 9});
  check_values(tg::cumsum(x, -1), {1, 3, 6, 4, 9, 15});
  const tg::Tensor i = tg::cumsum(tg::tensor({1, 2, 3}, {}, {.dtype = tg::kInt64}), 0);
  CHECK(i.dtype() == tg::kInt64);
  check_values(i, {1, 3, 6});
  check_values(tg::cumsum(tg::scalar_tensor(2), 0), {2});
}
