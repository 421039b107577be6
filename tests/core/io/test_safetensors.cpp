// safetensors: the fixture written to the format's layout (every dtype, bfloat16, 0-d and
// empty tensors, metadata), round trips, hostile headers and the corruption sweep.
#include <cstring>

#include "../helpers.h"
#include "fixtures.h"

namespace io = tg::io;

namespace {
// A safetensors file from header text and data bytes (the size prefix computed).
std::vector<char> safetensors_with(const std::string& header, std::size_t data_bytes = 0) {
  const std::uint64_t n = header.size();
  std::string b(8, '\0');
  std::memcpy(b.data(), &n, 8);
  b += header;
  b.append(data_bytes, '\0');
  return {b.begin(), b.end()};
}
}  // namespace

TEST_CASE("load_safetensors: every dtype, bfloat16, 0-d and empty tensors, in file order") {
  const std::string f = fixtures::path("tensors.safetensors");
  fixtures::check_dict(io::load_safetensors(f), "tensors.safetensors",
                       {"t_f32", "t_f64", "t_f16", "t_i64", "t_i32", "t_i16", "t_u16", "t_u32",
                        "t_i8", "t_u8", "t_bool", "t_bf16", "scalar", "empty"});
  const auto meta = io::load_safetensors_metadata(f);
  CHECK(meta ==
        std::map<std::string, std::string>{{"format", "pt"}, {"source", "gen_io_fixtures.py"}});
}

TEST_CASE("save_safetensors: round trip of a module's state dict, with metadata") {
  TempDir dir;
  tg::Generator gen(3);
  tg::nn::Sequential net;
  net.push_back(tg::nn::Linear(4, 3, true, &gen));
  net.push_back(tg::nn::BatchNorm1d(3));
  const std::string f = dir.file("net.safetensors");
  io::save_safetensors(net.state_dict(), f, {{"format", "pt"}});
  // The header is padded so the data starts 8-byte aligned, as Hugging Face's writer does.
  const std::vector<char> bytes = bytes_of(f);
  std::uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  tg::Generator other(4);
  tg::nn::Sequential fresh;
  fresh.push_back(tg::nn::Linear(4, 3, true, &other));
  fresh.push_back(tg::nn::BatchNorm1d(3));
  fresh.load_state_dict(io::load_safetensors(f));
  const auto a = net.state_dict(), b = fresh.state_dict();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.dtype() == b[i].second.dtype());
    CHECK(a[i].second.to_vector<double>() == b[i].second.to_vector<double>());
  }
  CHECK(io::load_safetensors_metadata(f).at("format") == "pt");
  CHECK_THROWS_WITH_AS(io::save_safetensors({{"__metadata__", tg::zeros({1})}}, f),
                       doctest::Contains("not __metadata__"), tg::ValueError);
}

TEST_CASE("load_safetensors: hostile headers are refused before any tensor is allocated") {
  TempDir dir;
  const std::string f = dir.file("bad.safetensors");
  auto refuses = [&](const std::vector<char>& bytes, const std::string& what) {
    write_bytes(f, bytes);
    INFO("expected: " << what);
    CHECK_THROWS_WITH_AS(io::load_safetensors(f), doctest::Contains(what.c_str()), tg::IoError);
    CHECK_THROWS_WITH_AS(io::load_safetensors(f), doctest::Contains(f.c_str()), tg::IoError);
  };
  // The control: a well-formed file of one F32 [2] tensor.
  write_bytes(f, safetensors_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8));
  CHECK(io::load_safetensors(f).at(0).second.shape() == tg::Shape{2});

  // Header order is not byte order (Hugging Face's writer sorts the header's keys by name and
  // the bytes by dtype): the tensors come back in the order of their bytes.
  std::vector<char> two =
      safetensors_with(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                       R"("a":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}})",
                       8);
  const float one = 1.5f;
  std::memcpy(two.data() + two.size() - 4, &one, 4);
  two[two.size() - 8] = -3;
  write_bytes(f, two);
  const io::TensorDict back = io::load_safetensors(f);
  REQUIRE(back.size() == 2);
  CHECK(back[0].first == "a");
  CHECK(back[0].second.to_vector<std::int64_t>() == std::vector<std::int64_t>{-3, 0, 0, 0});
  CHECK(back[1].second.item() == 1.5);

  std::vector<char> huge(16, ' ');
  const std::uint64_t claim = 1ULL << 60;
  std::memcpy(huge.data(), &claim, 8);
  refuses(huge, "exceeds the format's limit");
  std::vector<char> past = safetensors_with("{}    ");
  past[0] = 100;
  refuses(past, "is more than the");
  refuses({1, 2, 3}, "file is truncated");
  refuses(safetensors_with("[1, 2]"), "not a JSON object");
  refuses(safetensors_with("{\"a\": "), "not valid JSON");
  refuses(safetensors_with(R"({"a":{"b":{"c":{"d":1}}}})"), "nests deeper");
  refuses(safetensors_with(R"({"a":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}})", 8),
          "uint64 does not fit int64");
  refuses(safetensors_with(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1),
          "dtype F8_E4M3");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
          "not a size: -1");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],)"
                           R"("data_offsets":[0,4]}})",
                           4),
          "overflows int64");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
          "needs 12 bytes");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
          "negative count");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 8),
          "past the 8 data bytes");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                           12),
          "overlaps");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                           R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                           12),
          "a gap");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 12),
          "cover 4 of the 12");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[1]}})", 4), "lacks a dtype");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}})", 4),
          "not two sizes");
  refuses(safetensors_with(R"({"__metadata__":{"k":1}})"), "is not a string");
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                           R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                           8),
          "tensor 'a' appears twice");
  // Sizes whose product overflows even though one of them is 0 (an empty tensor).
  refuses(safetensors_with(R"({"a":{"dtype":"F32","shape":[0,4611686018427387904,4],)"
                           R"("data_offsets":[0,0]}})"),
          "overflows int64");
}

TEST_CASE("load_safetensors: every truncation and flipped bit is refused or loads in bounds") {
  TempDir dir;
  const std::string f = dir.file("c.safetensors");
  const std::vector<char> bytes = bytes_of(fixtures::path("tensors.safetensors"));
  sweep_corruptions(
      bytes, f,
      [&] {
        std::int64_t numel = 0;
        for (const auto& entry : io::load_safetensors(f)) numel += entry.second.numel();
        REQUIRE(numel <= static_cast<std::int64_t>(bytes.size()));
      },
      [] { return true; });
}
