// load_npy and load_npz on arbitrary bytes: a clean IoError, or arrays whose elements the file
// holds (no array larger than the bytes behind it) that save and load back bit for bit.
#include "fuzz_common.h"

namespace {
void round_trip(const tg::io::TensorDict& arrays) {
  const std::string again = (fuzz::scratch() / "again.npz").string();
  tg::io::save_npz(arrays, again);
  const tg::io::TensorDict back = tg::io::load_npz(again);
  fuzz::require(back.size() == arrays.size(), "npz: a loaded archive round-trips its arrays");
  for (std::size_t i = 0; i < back.size(); ++i) {
    fuzz::require(back[i].first == arrays[i].first, "npz: names round-trip in order");
    fuzz::require(fuzz::same_bits(back[i].second, arrays[i].second), "npz: values round-trip");
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write("input", data, size);
  try {
    const tg::Tensor t = tg::io::load_npy(path);
    fuzz::require(static_cast<std::size_t>(t.numel()) <= size, "npy: no array beyond the file");
    round_trip({{"array", t}});
  } catch (const tg::IoError&) {
  }
  try {
    const tg::io::TensorDict arrays = tg::io::load_npz(path);
    std::size_t numel = 0;
    for (const auto& entry : arrays) numel += static_cast<std::size_t>(entry.second.numel());
    // Deflate expands at most 1032-fold; stored entries at most 1-fold.
    fuzz::require(numel <= size * 1032, "npz: no array beyond what the file can hold");
    round_trip(arrays);
  } catch (const tg::IoError&) {
  }
  return 0;
}
