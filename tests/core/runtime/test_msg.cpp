// msg(): the message builder every error goes through streams each part as `os << part` did.
#include <iomanip>

#include "../helpers.h"
#include "tapegrad/core/detail/msg.h"

namespace {
struct Named {
  int id;
};
std::ostream& operator<<(std::ostream& os, const Named& n) { return os << "named#" << n.id; }
std::ostream& arrow(std::ostream& os) { return os << " -> "; }
}  // namespace

TEST_CASE("msg: literals, strings, numbers, manipulators and user types stream in order") {
  const std::string name = "matmul";
  const char* tail = " end";
  CHECK(tg::msg() == "");
  CHECK(tg::msg("plain") == "plain");
  CHECK(tg::msg(name, ": ", std::int64_t{3}, " vs ", 4u, tail) == "matmul: 3 vs 4 end");
  CHECK(tg::msg('x', 2.5, ' ', -1.0f, ' ', true) == "x2.5 -1 1");
  CHECK(tg::msg("0x", std::hex, 255, std::dec, " ", 255) == "0xff 255");
  CHECK(tg::msg(std::setw(4), 7, '|', std::string_view("sv")) == "   7|sv");
  CHECK(tg::msg("a", arrow, "b") == "a -> b");
  CHECK(tg::msg(Named{12}, " of ", tg::dtype_name(tg::kFloat64)) == "named#12 of float64");
}
