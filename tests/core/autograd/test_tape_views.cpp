// Views of the tape: tape_stats, tape_dump and to_dot.
#include <thread>

#include "../helpers.h"

TEST_CASE("autograd: tape_stats and tape_dump describe the live entries") {
  tg::Tensor x = leaf({2, 3});
  tg::Tensor y = tg::sigmoid(x * 2.0);
  const tg::TapeStats s = tg::tape_stats();
  CHECK(s.entries == 2);
  // sigmoid's backward reads its output, so its entry keeps it; mul's reads only its inputs.
  CHECK(s.bytes == 6 * sizeof(double));
  const std::string dump = tg::tape_dump();
  CHECK(dump.find("mul ([2, 3]) -> [2, 3] float64 0 bytes") != std::string::npos);
  CHECK(dump.find("sigmoid ([2, 3]) -> [2, 3] float64 48 bytes") != std::string::npos);
  y.sum().backward();
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("autograd: to_dot draws ops, leaves and edges") {
  tg::Tensor a = leaf({2, 2}), b = leaf({2, 2}, 8);
  const std::string dot = tg::to_dot(tg::matmul(a, b) + a);
  CHECK(dot.rfind("digraph tapegrad {", 0) == 0);
  CHECK(dot.find("label=\"matmul") != std::string::npos);
  CHECK(dot.find("label=\"add") != std::string::npos);
  CHECK(dot.find("label=\"leaf [2, 2]\"") != std::string::npos);
  std::size_t edges = 0;
  for (std::size_t p = dot.find("->"); p != std::string::npos; p = dot.find("->", p + 1)) ++edges;
  CHECK(edges == 4);  // a->matmul, b->matmul, matmul->add, a->add
}
