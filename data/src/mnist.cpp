// MNIST-style datasets: two IDX files, checked against each other, turned into float pixels in
// [0, 1] (optionally normalised) and int64 labels.
#include "tapegrad/data/mnist.h"

#include <filesystem>

#include "tapegrad/core/checked.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/data/idx.h"

namespace tapegrad::data {

const char* const kFashionClasses[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                         "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                         "Bag",         "Ankle boot"};

namespace {
// The standard name, raw or gzipped.
std::string find_file(const std::string& root, const std::string& name) {
  for (const std::string& candidate : {name, name + ".gz"}) {
    const auto p = std::filesystem::path(root) / candidate;
    if (std::filesystem::exists(p)) return p.string();
  }
  throw IoError(msg("MNIST: ", root, ": neither ", name, " nor ", name,
                    ".gz exists (run `make data`, or point --data at a folder holding the four "
                    "standard IDX files)"));
}
}  // namespace

MNIST::MNIST(const std::string& root, Split split, MNISTOptions o) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string image_path = find_file(root, prefix + "-images-idx3-ubyte");
  const std::string label_path = find_file(root, prefix + "-labels-idx1-ubyte");
  const IdxData images = read_idx(image_path);
  const IdxData labels = read_idx(label_path);
  if (images.dims.size() != 3)
    throw IoError(msg("MNIST: ", image_path,
                      ": images must be 3-D (N, rows, cols), the header says ", images.dims.size(),
                      "-D"));
  if (labels.dims.size() != 1)
    throw IoError(msg("MNIST: ", label_path, ": labels must be 1-D, the header says ",
                      labels.dims.size(), "-D"));
  if (images.dims[0] != labels.dims[0])
    throw IoError(msg("MNIST: ", image_path, " holds ", images.dims[0], " images but ", label_path,
                      " holds ", labels.dims[0], " labels"));
  if (o.mean.has_value() != o.std.has_value() || (o.std && !(*o.std > 0)))
    throw ValueError("MNIST: give both mean and std (std > 0) to normalise, or neither");
  std::int64_t n = images.dims[0];
  if (o.limit > 0) n = std::min(n, o.limit);
  const std::int64_t h = images.dims[1], w = images.dims[2];
  // read_idx caps the product of the sizes, so this cannot overflow; checked all the same,
  // before anything is allocated.
  checked_mul(checked_mul(n, h, image_path), w, image_path);
  Tensor x = empty(o.flatten ? Shape{n, h * w} : Shape{n, 1, h, w});
  Tensor y = empty({n}, {.dtype = kInt64});
  // x = (pixel / 255 - mean) / std as one scale and shift per pixel.
  const double mean = o.mean.value_or(0), sd = o.std.value_or(1);
  const auto scale = static_cast<float>(1 / (255.0 * sd)), shift = static_cast<float>(-mean / sd);
  const std::uint8_t* px = images.values.data();
  float* dst = x.data<float>();
  for (std::int64_t i = 0; i < n * h * w; ++i) dst[i] = static_cast<float>(px[i]) * scale + shift;
  std::int64_t* py = y.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    py[i] = labels.values[static_cast<std::size_t>(i)];
    num_classes_ = std::max(num_classes_, py[i] + 1);
  }
  set(x, y);
}

}  // namespace tapegrad::data
