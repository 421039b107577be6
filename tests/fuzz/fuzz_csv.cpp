// CSVDataset on arbitrary text, with options taken from the first byte: a clean Error, or a
// dataset whose shapes and labels keep the documented promises.
#include <cmath>

#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  const tg::data::CSVOptions o{.label_column = static_cast<int>(flags >> 4) - 8,
                               .header = (flags & 1) != 0,
                               .delimiter = (flags & 2) ? ';' : ',',
                               .classification = (flags & 4) != 0,
                               .allow_nan = (flags & 8) != 0};
  const std::string path = fuzz::write("input.csv", data + 1, size - 1);
  try {
    tg::data::CSVDataset ds(path, o);
    const tg::Tensor& x = ds.inputs();
    fuzz::require(x.dim() == 2 && x.size(0) == ds.size() && x.size(1) >= 1, "CSV: (N, F) features");
    if (!o.allow_nan)
      for (float v : x.to_vector<float>())
        fuzz::require(!std::isnan(v), "CSV: no NaN unless allowed");
    if (o.classification)
      for (std::int64_t y : ds.targets().to_vector<std::int64_t>())
        fuzz::require(y >= 0, "CSV: class labels are not negative");
    else
      fuzz::require(ds.targets().shape() == tg::Shape{ds.size(), 1}, "CSV: (N, 1) targets");
  } catch (const tg::Error&) {
  }
  return 0;
}
