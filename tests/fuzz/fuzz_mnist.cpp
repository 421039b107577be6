// The MNIST reader on an arbitrary image file and label file: the first two bytes say how long
// the image file is, the rest is the label file. A clean error, or a consistent dataset.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t n_images = std::min<std::size_t>(size - 2, data[0] | (data[1] << 8));
  const std::string dir = fuzz::scratch().string();
  fuzz::write("train-images-idx3-ubyte", data + 2, n_images);
  fuzz::write("train-labels-idx1-ubyte", data + 2 + n_images, size - 2 - n_images);
  try {
    tg::data::MNIST ds(dir, tg::data::Split::Train);
    const tg::Tensor& x = ds.inputs();
    fuzz::require(x.dim() == 2 && x.size(0) == ds.size(), "MNIST: (N, h*w) images");
    fuzz::require(ds.targets().numel() == ds.size(), "MNIST: one label per image");
    for (float v : x.to_vector<float>()) fuzz::require(v >= 0 && v <= 1, "MNIST: pixels in [0, 1]");
    for (std::int64_t y : ds.targets().to_vector<std::int64_t>())
      fuzz::require(y >= 0 && y < ds.num_classes(), "MNIST: labels below num_classes");
  } catch (const tg::IoError&) {
  }
  return 0;
}
