// load_torch_value on arbitrary bytes: a clean IoError, or values whose tensors the file's
// storages hold (at most 8 times its bytes, however views overlap) and that save_torch writes
// and load_torch_value reads back bit for bit.
#include "fuzz_common.h"

namespace {
void require_same(const tg::io::TorchValue& a, const tg::io::TorchValue& b, int depth = 0) {
  using K = tg::io::TorchValue::Kind;
  fuzz::require(a.kind() == b.kind() || (a.kind() == K::Tuple && b.kind() == K::Tuple),
                "torch: kinds round-trip");
  switch (a.kind()) {
    case K::Bool: fuzz::require(a.to_bool() == b.to_bool(), "torch: bools round-trip"); break;
    case K::Int: fuzz::require(a.to_int() == b.to_int(), "torch: ints round-trip"); break;
    case K::Float:
      fuzz::require((a.to_double() == b.to_double() ||
                     (a.to_double() != a.to_double() && b.to_double() != b.to_double())),
                    "torch: floats round-trip");
      break;
    case K::String: fuzz::require(a.str() == b.str(), "torch: strings round-trip"); break;
    case K::Bytes: fuzz::require(a.bytes() == b.bytes(), "torch: bytes round-trip"); break;
    case K::Tensor:
      fuzz::require(fuzz::same_bits(a.tensor(), b.tensor()), "torch: tensors round-trip");
      break;
    case K::List:
    case K::Tuple:
      fuzz::require(a.elements().size() == b.elements().size(), "torch: lists round-trip");
      for (std::size_t i = 0; i < a.elements().size(); ++i)
        require_same(a.elements()[i], b.elements()[i], depth + 1);
      break;
    case K::Dict:
      fuzz::require(a.items().size() == b.items().size(), "torch: dicts round-trip");
      for (std::size_t i = 0; i < a.items().size(); ++i) {
        require_same(a.items()[i].first, b.items()[i].first, depth + 1);
        require_same(a.items()[i].second, b.items()[i].second, depth + 1);
      }
      break;
    case K::None: break;
  }
}

// Elements of the distinct tensors in v (one tensor reached twice is one allocation).
std::size_t numel(const tg::io::TorchValue& v, std::vector<tg::Tensor>& seen) {
  using K = tg::io::TorchValue::Kind;
  if (v.kind() == K::Tensor) {
    for (const tg::Tensor& t : seen)
      if (t.is_same(v.tensor())) return 0;
    seen.push_back(v.tensor());
    return static_cast<std::size_t>(v.tensor().numel());
  }
  std::size_t n = 0;
  if (v.kind() == K::List || v.kind() == K::Tuple)
    for (const auto& e : v.elements()) n += numel(e, seen);
  if (v.kind() == K::Dict)
    for (const auto& [k, e] : v.items()) n += numel(e, seen);
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write("input.pt", data, size);
  tg::io::TorchValue v;
  try {
    v = tg::io::load_torch_value(path);
  } catch (const tg::IoError&) {
    return 0;
  }
  std::vector<tg::Tensor> seen;
  fuzz::require(numel(v, seen) <= 8 * size + 1,
                "torch: no more tensor elements than the file allows");
  const std::string again = (fuzz::scratch() / "again.pt").string();
  tg::io::save_torch(v, again);
  require_same(v, tg::io::load_torch_value(again));
  return 0;
}
