// IDX: round trips, and every kind of bad file refused with a clear error and no big allocation.
#include <filesystem>
#include <fstream>

#include "../core/helpers.h"

namespace data = tg::data;
namespace fs = std::filesystem;

namespace {
std::vector<char> bytes_of(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const std::string& p, const std::vector<char>& b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(b.data(), static_cast<std::streamsize>(b.size()));
}
data::IdxData sample(std::int64_t n) {
  data::IdxData d{{n, 3, 2}, {}};
  for (std::int64_t i = 0; i < n * 6; ++i) d.values.push_back(static_cast<std::uint8_t>(i * 7));
  return d;
}
}  // namespace

TEST_CASE("idx: raw and gzip round trips are exact") {
  TempDir dir;
  const data::IdxData d = sample(5);
  for (bool gz : {false, true}) {
    data::write_idx(dir.file("a.idx"), d, gz);
    const data::IdxData back = data::read_idx(dir.file("a.idx"));
    CHECK(back.dims == d.dims);
    CHECK(back.values == d.values);
  }
  CHECK(bytes_of(dir.file("a.idx"))[0] == '\x1f');  // the last one was gzipped
}

TEST_CASE("idx: a file truncated at any offset is refused, raw or gzipped") {
  TempDir dir;
  for (bool gz : {false, true}) {
    data::write_idx(dir.file("a.idx"), sample(40), gz);
    const std::vector<char> full = bytes_of(dir.file("a.idx"));
    for (std::size_t n = 0; n < full.size(); n += gz ? 3 : 5) {
      write_bytes(dir.file("cut.idx"), std::vector<char>(full.begin(), full.begin() + static_cast<long>(n)));
      INFO(std::string(gz ? "gzip" : "raw") << " truncated to " << n << " bytes");
      CHECK_THROWS_AS(data::read_idx(dir.file("cut.idx")), tg::IoError);
    }
  }
  data::write_idx(dir.file("a.idx"), sample(40), false);
  std::vector<char> full = bytes_of(dir.file("a.idx"));
  full.resize(100);
  write_bytes(dir.file("cut.idx"), full);
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("cut.idx")),
                       doctest::Contains("file is truncated: the header describes 240 bytes of data, the file holds 84"),
                       tg::IoError);
}

TEST_CASE("idx: bad magic, unsupported types and trailing bytes are named") {
  TempDir dir;
  write_bytes(dir.file("m.idx"), {'P', 'K', 3, 4, 0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("m.idx")), doctest::Contains("not an IDX file"), tg::IoError);
  write_bytes(dir.file("f.idx"), {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("f.idx")),
                       doctest::Contains("element type 0xd (float) is not supported"), tg::IoError);
  write_bytes(dir.file("t.idx"), {0, 0, 8, 1, 0, 0, 0, 2, 5, 6, 7});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("t.idx")), doctest::Contains("file has trailing bytes"),
                       tg::IoError);
  write_bytes(dir.file("z.idx"), {0, 0, 8, 0});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("z.idx")), doctest::Contains("bad number of dimensions 0"),
                       tg::IoError);
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("absent.idx")), doctest::Contains("absent.idx: no such file"),
                       tg::IoError);
}

TEST_CASE("idx: a header claiming huge dimensions never allocates them") {
  TempDir dir;
  // 0xFFFFFFFF x 0xFFFFFFFF bytes: the product would overflow 64 bits after two more dims.
  write_bytes(dir.file("h.idx"), {0, 0, 8, 3, '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff',
                                  '\xff', '\xff', '\xff', '\xff', 1, 2, 3});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("h.idx")), doctest::Contains("claims more than"), tg::IoError);
  // A gzip stream whose header claims 2^31 bytes but holds 6: refused after reading what is there.
  data::IdxData small{{1, 6}, {1, 2, 3, 4, 5, 6}};
  data::write_idx(dir.file("g.idx"), small, true);
  std::vector<char> raw = {0, 0, 8, 2, 0, 0, 0, 1, '\x80', 0, 0, 0, 1, 2, 3, 4, 5, 6};
  write_bytes(dir.file("lie.idx"), raw);
  CHECK_THROWS_AS(data::read_idx(dir.file("lie.idx")), tg::IoError);
}

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
  data::MNIST norm(dir.path.string(), data::Split::Test, {.flatten = false, .mean = 0.5, .std = 0.5, .limit = 2});
  CHECK(norm.inputs().shape() == tg::Shape{2, 1, 2, 2});
  check_values(norm.inputs().narrow(0, 0, 1).reshape({-1}), {-1, 1, -0.6, -0.2}, 1e-6);
}

TEST_CASE("mnist: a count mismatch or a missing file names the files") {
  TempDir dir;
  data::write_idx(dir.file("train-images-idx3-ubyte"), {{2, 1, 1}, {1, 2}}, false);
  data::write_idx(dir.file("train-labels-idx1-ubyte"), {{3}, {1, 2, 3}}, false);
  CHECK_THROWS_WITH_AS(data::MNIST(dir.path.string(), data::Split::Train),
                       doctest::Contains("holds 2 images but"), tg::IoError);
  CHECK_THROWS_WITH_AS(data::MNIST(dir.path.string(), data::Split::Test),
                       doctest::Contains("neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz exists"),
                       tg::IoError);
}

TEST_CASE("csv: features and targets, with errors naming line and column") {
  TempDir dir;
  std::ofstream(dir.file("ok.csv")) << "a,b,label\n1,2,0\n3.5,-4,2\n\n5,6e1,1\n";
  data::CSVDataset ds(dir.file("ok.csv"));
  CHECK(ds.size() == 3);
  check_values(ds.inputs(), {1, 2, 3.5, -4, 5, 60});
  CHECK(ds.targets().to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 2, 1});
  data::CSVDataset reg(dir.file("ok.csv"), {.label_column = 0, .classification = false});
  check_values(reg.targets(), {1, 3.5, 5});
  std::ofstream(dir.file("bad.csv")) << "a,b,label\n1,2,0\n3,x,1\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("bad.csv")),
                       doctest::Contains("bad.csv: line 3, column 2: 'x' is not a number"), tg::IoError);
  std::ofstream(dir.file("ragged.csv")) << "1,2,0\n3,1\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("ragged.csv"), {.header = false}),
                       doctest::Contains("line 2 has 2 columns, earlier lines have 3"), tg::IoError);
  std::ofstream(dir.file("label.csv")) << "1,2,0.5\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("label.csv"), {.header = false}),
                       doctest::Contains("class label 0.5 is not a non-negative integer"), tg::IoError);
}
