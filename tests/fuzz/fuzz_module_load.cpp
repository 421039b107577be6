// Module::load on arbitrary bytes: a clean Error that leaves the model exactly as it was, or
// every parameter replaced by the file's values.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write("model.tg", data, size);
  static tg::nn::Sequential m = fuzz::small_model();
  const auto before = fuzz::snapshot(m);
  try {
    m.load(path);
  } catch (const tg::Error&) {
    fuzz::require(fuzz::snapshot(m) == before, "Module::load: a failed load changes nothing");
    return 0;
  }
  const tg::Archive ar = tg::Archive::load(path);
  for (const auto& [name, p] : m.named_parameters())
    fuzz::require(fuzz::same_bits(p.detach(), ar.get("model." + name)),
                  "Module::load: values loaded");
  return 0;
}
