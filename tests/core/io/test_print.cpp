// Printing tensors as PyTorch does.
#include <sstream>

#include "../helpers.h"

TEST_CASE("tensor: prints like PyTorch") {
  std::ostringstream a, b, c, d;
  a << tg::tensor({1, 2, 3, 4}, {2, 2});
  CHECK(a.str() == "tensor([[1., 2.],\n        [3., 4.]])");
  b << tg::tensor({1.5, -2}, {}, {.dtype = tg::kFloat64});
  CHECK(b.str() == "tensor([ 1.5000, -2.0000], dtype=float64)");
  c << tg::zeros({2}, {.requires_grad = true});
  CHECK(c.str() == "tensor([0., 0.], requires_grad=true)");
  d << tg::arange(2000);
  CHECK(d.str() == "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])");
  std::ostringstream e;
  e << tg::scalar_tensor(7, {.dtype = tg::kInt64});
  CHECK(e.str() == "tensor(7, dtype=int64)");
}
