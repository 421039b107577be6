// read_idx on arbitrary bytes (raw or gzip: zlib reads both): a clean IoError, or data whose
// size matches the header it read.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write("input.idx", data, size);
  try {
    const tg::data::IdxData d = tg::data::read_idx(path);
    fuzz::require(!d.dims.empty() && d.dims.size() <= 8, "read_idx: 1 to 8 dimensions");
    std::uint64_t count = 1;
    for (std::int64_t n : d.dims) {
      fuzz::require(n >= 0 && n <= 0xFFFFFFFFLL, "read_idx: dimensions are u32");
      count *= static_cast<std::uint64_t>(n);
    }
    fuzz::require(count == d.values.size(), "read_idx: values match the header");
  } catch (const tg::IoError&) {
  }
  return 0;
}
