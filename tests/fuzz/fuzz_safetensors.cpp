// load_safetensors on arbitrary bytes: a clean IoError, or tensors whose bytes lie inside the
// file, that save and load back bit for bit with the same metadata.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write("input.safetensors", data, size);
  tg::io::TensorDict tensors;
  std::map<std::string, std::string> meta;
  try {
    tensors = tg::io::load_safetensors(path);
    meta = tg::io::load_safetensors_metadata(path);
  } catch (const tg::IoError&) {
    return 0;
  }
  std::size_t numel = 0;
  for (const auto& entry : tensors) numel += static_cast<std::size_t>(entry.second.numel());
  fuzz::require(numel <= size, "safetensors: no tensor beyond the file's bytes");
  const std::string again = (fuzz::scratch() / "again.safetensors").string();
  tg::io::save_safetensors(tensors, again, meta);
  const tg::io::TensorDict back = tg::io::load_safetensors(again);
  fuzz::require(back.size() == tensors.size(), "safetensors: tensors round-trip");
  for (std::size_t i = 0; i < back.size(); ++i) {
    fuzz::require(back[i].first == tensors[i].first, "safetensors: names round-trip in order");
    fuzz::require(fuzz::same_bits(back[i].second, tensors[i].second),
                  "safetensors: values round-trip bit for bit");
  }
  fuzz::require(tg::io::load_safetensors_metadata(again) == meta,
                "safetensors: metadata round-trips");
  return 0;
}
