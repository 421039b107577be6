// IDX: round trips, and every kind of bad file refused with a clear error and no big allocation.
#include <filesystem>
#include <fstream>

#include "../core/helpers.h"

namespace data = tg::data;
namespace fs = std::filesystem;

namespace {
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
      write_bytes(dir.file("cut.idx"),
                  std::vector<char>(full.begin(), full.begin() + static_cast<long>(n)));
      INFO(std::string(gz ? "gzip" : "raw") << " truncated to " << n << " bytes");
      CHECK_THROWS_AS(data::read_idx(dir.file("cut.idx")), tg::IoError);
    }
  }
  data::write_idx(dir.file("a.idx"), sample(40), false);
  std::vector<char> full = bytes_of(dir.file("a.idx"));
  full.resize(100);
  write_bytes(dir.file("cut.idx"), full);
  CHECK_THROWS_WITH_AS(
      data::read_idx(dir.file("cut.idx")),
      doctest::Contains(
          "file is truncated: the header describes 240 bytes of data, the file holds 84"),
      tg::IoError);
}

TEST_CASE("idx: bad magic, unsupported types and trailing bytes are named") {
  TempDir dir;
  write_bytes(dir.file("m.idx"), {'P', 'K', 3, 4, 0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("m.idx")), doctest::Contains("not an IDX file"),
                       tg::IoError);
  write_bytes(dir.file("f.idx"), {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("f.idx")),
                       doctest::Contains("element type 0xd (float) is not supported"), tg::IoError);
  write_bytes(dir.file("t.idx"), {0, 0, 8, 1, 0, 0, 0, 2, 5, 6, 7});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("t.idx")),
                       doctest::Contains("file has trailing bytes"), tg::IoError);
  write_bytes(dir.file("z.idx"), {0, 0, 8, 0});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("z.idx")),
                       doctest::Contains("bad number of dimensions 0"), tg::IoError);
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("absent.idx")),
                       doctest::Contains("absent.idx: no such file"), tg::IoError);
}

TEST_CASE("idx: a header claiming huge dimensions never allocates them") {
  TempDir dir;
  // 0xFFFFFFFF x 0xFFFFFFFF bytes: the product would overflow 64 bits after two more dims.
  write_bytes(dir.file("h.idx"), {0, 0, 8, 3, '\xff', '\xff', '\xff', '\xff', '\xff', '\xff',
                                  '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', 1, 2, 3});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("h.idx")),
                       doctest::Contains("h.idx: the header (4294967295, 4294967295, 4294967295) "
                                         "describes more than 4294967296 bytes"),
                       tg::IoError);
  // No data at all, but per-sample sizes whose product overflows int64 (a reader computing
  // rows * cols would wrap): refused by the header check too.
  write_bytes(dir.file("z.idx"), {0, 0, 8, 3, 0, 0, 0, 0, '\xff', '\xff', '\xff', '\xff', '\xff',
                                  '\xff', '\xff', '\xff'});
  CHECK_THROWS_WITH_AS(data::read_idx(dir.file("z.idx")),
                       doctest::Contains("z.idx: the header (0, 4294967295, 4294967295) describes"),
                       tg::IoError);
  // A gzip stream whose header claims 2^31 bytes but holds 6: refused after reading what is there.
  data::IdxData small{{1, 6}, {1, 2, 3, 4, 5, 6}};
  data::write_idx(dir.file("g.idx"), small, true);
  std::vector<char> raw = {0, 0, 8, 2, 0, 0, 0, 1, '\x80', 0, 0, 0, 1, 2, 3, 4, 5, 6};
  write_bytes(dir.file("lie.idx"), raw);
  CHECK_THROWS_AS(data::read_idx(dir.file("lie.idx")), tg::IoError);
}

TEST_CASE("idx: every truncation and every flipped bit is refused or reads a consistent array") {
  TempDir dir;
  for (bool gz : {false, true}) {
    INFO((gz ? "gzip" : "raw"));
    data::write_idx(dir.file("a.idx"), sample(4), gz);
    data::IdxData got;
    const std::size_t loaded = sweep_corruptions(
        bytes_of(dir.file("a.idx")), dir.file("bad.idx"),
        [&] { got = data::read_idx(dir.file("bad.idx")); }, [] { return true; });
    // Raw pixels carry no check: a flip there reads a valid array with one value changed.
    if (!gz) CHECK(loaded >= 4 * 6);
    CHECK(got.values.size() == 4 * 6);
  }
}
