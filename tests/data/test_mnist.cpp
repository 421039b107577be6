// MNIST: the four standard IDX files, checked against each other, scaled and labelled.
#include <fstream>

#include "../core/helpers.h"

namespace data = tg::data;

TEST_CASE("mnist: images and labels from the standard names, scaled to [0, 1]") {
  TempDir dir;
  data::IdxData images{{3, 2, 2}, {0, 255, 51, 102, 0, 0, 0, 0, 255, 255, 255, 255}};
  data::IdxData labels{{3}, {7, 0, 9}};
  data::write_idx(dir.file("t10k-images-idx3-ubyte.gz"), images, true);
  data::write_idx(dir.file("t10k-labels-idx1-ubyte"), labels, false);
  data::MNIST test(dir.path.string(), data::Split::Test);
  CHECK(test.size() == 3);
  CHECK(test.inputs().shape() == tg::Shape{3, 4});
  check_values(test.inputs().narrow(0, 0, 1), {0, 1, 0.2, 0.4}, 1e-6);
  CHECK(test.targets().to_vector<std::int64_t>() == std::vector<std::int64_t>{7, 0, 9});
  CHECK(test.num_classes() == 10);
  data::MNIST norm(dir.path.string(), data::Split::Test,
                   {.flatten = false, .mean = 0.5, .std = 0.5, .limit = 2});
  CHECK(norm.inputs().shape() == tg::Shape{2, 1, 2, 2});
  check_values(norm.inputs().narrow(0, 0, 1).reshape({-1}), {-1, 1, -0.6, -0.2}, 1e-6);
}

TEST_CASE("mnist: a count mismatch or a missing file names the files") {
  TempDir dir;
  data::write_idx(dir.file("train-images-idx3-ubyte"), {{2, 1, 1}, {1, 2}}, false);
  data::write_idx(dir.file("train-labels-idx1-ubyte"), {{3}, {1, 2, 3}}, false);
  CHECK_THROWS_WITH_AS(data::MNIST(dir.path.string(), data::Split::Train),
                       doctest::Contains("holds 2 images but"), tg::IoError);
  CHECK_THROWS_WITH_AS(
      data::MNIST(dir.path.string(), data::Split::Test),
      doctest::Contains("neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz exists"),
      tg::IoError);
}

TEST_CASE("mnist: an image header whose sizes overflow is refused before allocating") {
  TempDir dir;
  // (0, 2^32-1, 2^32-1): no images, but rows * cols overflows int64.
  write_bytes(dir.file("train-images-idx3-ubyte"), {0, 0, 8, 3, 0, 0, 0, 0, '\xff', '\xff', '\xff',
                                                    '\xff', '\xff', '\xff', '\xff', '\xff'});
  data::write_idx(dir.file("train-labels-idx1-ubyte"), {{0}, {}}, false);
  CHECK_THROWS_WITH_AS(
      data::MNIST(dir.path.string(), data::Split::Train),
      doctest::Contains("train-images-idx3-ubyte: the header (0, 4294967295, 4294967295)"),
      tg::IoError);
}
