// NumPy's .npy and .npz: the files NumPy wrote (every dtype, both byte orders, Fortran order,
// format versions 1 to 3), round trips, hostile headers and the corruption sweep.
#include <cstring>

#include "../helpers.h"
#include "fixtures.h"

namespace io = tg::io;

namespace {
// A .npy file with the given header text (padded as NumPy pads) and data bytes.
std::vector<char> npy_with(const std::string& dict, const std::vector<char>& data = {}) {
  std::string header = dict;
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::string b("\x93NUMPY\x01\x00", 8);
  b += static_cast<char>(header.size() & 0xff);
  b += static_cast<char>(header.size() >> 8);
  b += header;
  b.append(data.begin(), data.end());
  return {b.begin(), b.end()};
}
}  // namespace

TEST_CASE("load_npy: reads NumPy's files of every dtype, byte order and layout") {
  int count = 0;
  for (const auto& item : fixtures::all().items()) {
    const std::string& name = item.key();
    const nlohmann::json& tensors = item.value();
    if (name.size() < 4 || name.substr(name.size() - 4) != ".npy") continue;
    fixtures::check_tensor(io::load_npy(fixtures::path(name)), tensors.at("array"), name);
    ++count;
  }
  CHECK(count == 22);
}

TEST_CASE("save_npy: writes NumPy's own bytes, and reads them back") {
  TempDir dir;
  // np.save's output for these, byte for byte: the header text, its padding and the data.
  for (const char* name : {"npy_lef4.npy", "npy_lef8.npy", "npy_lei8.npy", "npy_scalar_f8.npy",
                           "npy_empty_f4.npy", "npy_1d_i8.npy"}) {
    INFO(name);
    const tg::Tensor t = io::load_npy(fixtures::path(name));
    io::save_npy(t, dir.file("out.npy"));
    CHECK(bytes_of(dir.file("out.npy")) == bytes_of(fixtures::path(name)));
  }
  const tg::Tensor r = tg::randn({4, 5, 6});
  io::save_npy(r, dir.file("r.npy"));
  CHECK(io::load_npy(dir.file("r.npy")).to_vector<float>() == r.to_vector<float>());
}

TEST_CASE("load_npz: np.savez and np.savez_compressed files, in the archive's order") {
  for (const char* name : {"arrays.npz", "arrays_compressed.npz"}) {
    INFO(name);
    fixtures::check_dict(io::load_npz(fixtures::path(name)), name, {"weight", "step", "mask"});
  }
}

TEST_CASE("save_npz: stored and deflated archives read back in order") {
  TempDir dir;
  const io::TensorDict arrays = {{"w", tg::randn({3, 2})},
                                 {"b", tg::tensor({1.5, -2}, {}, {.dtype = tg::kFloat64})},
                                 {"n", tg::from_vector(std::vector<std::int64_t>{4, 5, 6})},
                                 {"scalar", tg::scalar_tensor(2)}};
  for (bool compressed : {false, true}) {
    io::save_npz(arrays, dir.file("a.npz"), compressed);
    const io::TensorDict back = io::load_npz(dir.file("a.npz"));
    REQUIRE(back.size() == arrays.size());
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      CHECK(back[i].first == arrays[i].first);
      CHECK(back[i].second.shape() == arrays[i].second.shape());
      CHECK(back[i].second.to_vector<double>() == arrays[i].second.to_vector<double>());
    }
  }
  io::save_npz({}, dir.file("empty.npz"));
  CHECK(io::load_npz(dir.file("empty.npz")).empty());
  CHECK_THROWS_WITH_AS(
      io::save_npz({{"x", tg::zeros({1})}, {"x", tg::zeros({1})}}, dir.file("dup.npz")),
      doctest::Contains("distinct"), tg::ValueError);
}

TEST_CASE("load_npy: hostile and malformed headers are refused, naming the file and the fault") {
  TempDir dir;
  const std::string f = dir.file("bad.npy");
  auto refuses = [&](const std::vector<char>& bytes, const std::string& what) {
    write_bytes(f, bytes);
    INFO("expected: " << what);
    CHECK_THROWS_WITH_AS(io::load_npy(f), doctest::Contains(what.c_str()), tg::IoError);
    CHECK_THROWS_WITH_AS(io::load_npy(f), doctest::Contains(f.c_str()), tg::IoError);
  };
  const std::vector<char> six(24, 0);
  // The control: the same header and data, well formed, loads.
  write_bytes(f, npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six));
  CHECK(io::load_npy(f).shape() == tg::Shape{2, 3});
  refuses(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }", six),
          "expected a non-negative integer");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': "
                   "(4611686018427387904, 4611686018427387904), }",
                   six),
          "sizes' product overflows int64");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': "
                   "(99999999999999999999, ), }",
                   six),
          "overflows int64");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000), }", six),
          "needs more elements");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': True, 'shape': "
                   "(4611686018427387904, 4611686018427387904, 0), }"),
          "sizes' product overflows int64");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': "
                   "(4294967296, 4294967296, 4294967296), }",
                   six),
          "sizes' product overflows int64");
  refuses(npy_with("{'descr': '<u8', 'fortran_order': False, 'shape': (3, ), }", six),
          "uint64 does not fit int64");
  refuses(npy_with("{'descr': '|O', 'fortran_order': False, 'shape': (3, ), }", six),
          "unsupported .npy dtype '|O'");
  refuses(npy_with("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3, ), }", six),
          "structured dtypes");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (3, ), 'x': 1, }", six),
          "unexpected key 'x'");
  refuses(npy_with("{'descr': '<f4', 'shape': (3, ), }", six), "no 'fortran_order'");
  refuses(
      npy_with("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", six),
      "appears twice");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (5, ), }", six),
          "4 bytes after the array's 5 elements");
  refuses(npy_with("{'descr': '<f4', 'fortran_order': Nope, 'shape': (6, ), }", six),
          "expected True or False");
  refuses({'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0, '\xff', '\x7f', '{'}, "claims 32767 bytes");
  refuses({'\x93', 'N', 'U', 'M', 'P', 'Y', 4, 0, 0, 0}, "format version 4.0");
  refuses({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, "not a .npy file");
  CHECK_THROWS_WITH_AS(io::load_npy(dir.file("missing.npy")), doctest::Contains("cannot open"),
                       tg::IoError);
  CHECK_THROWS_WITH_AS(io::load_npy(dir.path.string()), doctest::Contains("not a regular file"),
                       tg::IoError);
  write_bytes(dir.file("empty.npz"), {});
  CHECK_THROWS_WITH_AS(io::load_npz(dir.file("empty.npz")),
                       doctest::Contains("not a zip archive (0 bytes"), tg::IoError);
}

TEST_CASE("load_npy and load_npz: every truncation and flipped bit is refused or loads whole") {
  TempDir dir;
  const std::string f = dir.file("c.npy");
  sweep_corruptions(
      bytes_of(fixtures::path("npy_lef4.npy")), f, [&] { io::load_npy(f); }, [] { return true; });
  const std::string z = dir.file("c.npz");
  for (const char* name : {"arrays.npz", "arrays_compressed.npz"}) {
    INFO(name);
    // Each loaded array lies inside the file: no tensor larger than the bytes behind it.
    const std::vector<char> bytes = bytes_of(fixtures::path(name));
    sweep_corruptions(
        bytes, z,
        [&] {
          std::int64_t numel = 0;
          for (const auto& entry : io::load_npz(z)) numel += entry.second.numel();
          REQUIRE(numel <= static_cast<std::int64_t>(bytes.size()) * 1032);
        },
        [] { return true; });
  }
}
