// Archive: named tensors and texts in one checked file.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "../helpers.h"

TEST_CASE("archive: stores tensors of every dtype and texts, and reads them back exactly") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tg_archive_" + std::to_string(::getpid())))
          .string();
  tg::Archive ar;
  tg::Tensor f = tg::randn({3, 4});
  ar.put("a.f32", f);
  ar.put("b.f64", tg::tensor({1.5, -2}, {}, {.dtype = tg::kFloat64}));
  ar.put("c.i64", tg::from_vector(std::vector<std::int64_t>{7, 8, 9}));
  ar.put("d.scalar", tg::scalar_tensor(3));
  ar.put("e.empty", tg::zeros({0, 5}));
  ar.put_text("f.text", "hello");
  {
    tg::NoGradGuard no_grad;
    f.fill_(0);  // put() took a snapshot
  }
  ar.save(path);
  const tg::Archive back = tg::Archive::load(path);
  std::filesystem::remove(path);
  CHECK(back.names() ==
        std::vector<std::string>{"a.f32", "b.f64", "c.i64", "d.scalar", "e.empty", "f.text"});
  CHECK(back.get("a.f32").to_vector<float>() == ar.get("a.f32").to_vector<float>());
  CHECK(back.get("a.f32").abs().sum().item() > 0);
  CHECK(back.get("b.f64").dtype() == tg::kFloat64);
  CHECK(back.get("c.i64").to_vector<std::int64_t>() == std::vector<std::int64_t>{7, 8, 9});
  CHECK(back.get("d.scalar").dim() == 0);
  CHECK(back.get("e.empty").shape() == tg::Shape{0, 5});
  CHECK(back.get_text("f.text") == "hello");
  CHECK(back.names_with_prefix("b.") == std::vector<std::string>{"b.f64"});
  CHECK_THROWS_WITH_AS(back.get("f.text"),
                       doctest::Contains("entry 'f.text' is a text, not a tensor"), tg::ValueError);
  CHECK_THROWS_AS(back.get_text("zzz"), tg::ValueError);
  CHECK_THROWS_AS(ar.put("", f), tg::ValueError);
}

TEST_CASE("archive: a header claiming a huge tensor is refused without allocating it") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tg_huge_" + std::to_string(::getpid()))).string();
  tg::Archive ar;
  ar.put("w", tg::zeros({2, 2}));
  ar.save(path);
  // Rewrite the first dimension (after magic, version, count, name length, name, kind, dtype,
  // rank) to 2^40.
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  REQUIRE(f);
  std::fseek(f, 8 + 4 + 8 + 4 + 1 + 1 + 1 + 1, SEEK_SET);
  const std::int64_t huge = std::int64_t{1} << 40;
  std::fwrite(&huge, sizeof huge, 1, f);
  std::fclose(f);
  CHECK_THROWS_WITH_AS(tg::Archive::load(path),
                       doctest::Contains("impossible dimension 1099511627776"), tg::IoError);
  std::filesystem::remove(path);
}

TEST_CASE("archive: a file that names an entry twice is refused") {
  TempDir dir;
  tg::Archive ar;
  ar.put("a", tg::zeros({1}));
  ar.put("b", tg::ones({1}));
  ar.save(dir.file("two.tg"));
  std::vector<char> bytes = bytes_of(dir.file("two.tg"));
  // Rename "b" to "a" (the last name byte 'b' in the file), then fix the CRC-32 (zlib's, over
  // everything before the last 4 bytes) so only the duplicate is wrong.
  const auto at = std::find(bytes.rbegin() + 4, bytes.rend(), 'b');  // not in the CRC
  REQUIRE(at != bytes.rend());
  *at = 'a';
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i + 4 < bytes.size(); ++i) {
    crc ^= static_cast<std::uint8_t>(bytes[i]);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc = ~crc;
  std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  write_bytes(dir.file("dup.tg"), bytes);
  CHECK_THROWS_WITH_AS(tg::Archive::load(dir.file("dup.tg")),
                       doctest::Contains("dup.tg: entry 'a' appears twice"), tg::IoError);
}
