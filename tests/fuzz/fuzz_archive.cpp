// Archive::load on arbitrary bytes: a clean IoError, or an archive that saves and loads back to
// the same entries.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write("input.tg", data, size);
  tg::Archive ar;
  try {
    ar = tg::Archive::load(path);
  } catch (const tg::IoError&) {
    return 0;
  }
  const std::string again = (fuzz::scratch() / "again.tg").string();
  ar.save(again);
  const tg::Archive back = tg::Archive::load(again);
  fuzz::require(back.names() == ar.names(), "Archive: a loaded archive round-trips its names");
  for (const std::string& name : ar.names()) {
    if (ar.is_tensor(name)) {
      const tg::Tensor a = ar.get(name), b = back.get(name);
      fuzz::require(a.shape() == b.shape() && a.dtype() == b.dtype(), "Archive: shapes round-trip");
      fuzz::require(fuzz::same_bits(a, b), "Archive: values round-trip bit for bit");
    } else {
      fuzz::require(ar.get_text(name) == back.get_text(name), "Archive: texts round-trip");
    }
  }
  return 0;
}
