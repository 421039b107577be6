// Checkpoints: bit-exact round trips, and every kind of bad file refused with the model
// untouched.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../core/helpers.h"

namespace nn = tg::nn;
namespace fs = std::filesystem;

namespace {

nn::Sequential make_model(std::uint64_t seed) {
  tg::Generator gen(seed);
  return nn::Sequential(nn::Linear(5, 4, true, &gen), nn::Tanh(), nn::Linear(4, 3, true, &gen));
}

std::vector<std::vector<float>> snapshot(const nn::Module& m) {
  std::vector<std::vector<float>> s;
  for (const tg::Tensor& p : m.parameters()) s.push_back(p.to_vector<float>());
  return s;
}
}  // namespace

TEST_CASE("checkpoint: a round trip is bit-exact") {
  TempDir dir;
  nn::Sequential a = make_model(1), b = make_model(2);
  REQUIRE(snapshot(a) != snapshot(b));
  a.save(dir.file("m.tg"));
  b.load(dir.file("m.tg"));
  CHECK(snapshot(a) == snapshot(b));
  tg::Tensor x = tg::randn({7, 5});
  CHECK(a(x).to_vector<float>() == b(x).to_vector<float>());
}

TEST_CASE("checkpoint: every truncation and every flipped bit is refused and changes nothing") {
  TempDir dir;
  nn::Sequential a = make_model(1), b = make_model(2);
  a.save(dir.file("m.tg"));
  const std::vector<char> bytes = bytes_of(dir.file("m.tg"));
  const auto before = snapshot(b);
  // The archive's checksum covers every byte, so nothing corrupted may load.
  CHECK(sweep_corruptions(
            bytes, dir.file("bad.tg"), [&] { b.load(dir.file("bad.tg")); },
            [&] { return snapshot(b) == before; }) == 0);
  write_bytes(dir.file("cut.tg"), {bytes.begin(), bytes.begin() + 200});
  CHECK_THROWS_WITH_AS(b.load(dir.file("cut.tg")), doctest::Contains("cut.tg: file is truncated"),
                       tg::IoError);
  std::vector<char> bad = bytes;
  bad[bad.size() - 20] ^= 1;  // inside the last tensor's data
  write_bytes(dir.file("bad.tg"), bad);
  CHECK_THROWS_WITH_AS(b.load(dir.file("bad.tg")), doctest::Contains("checksum mismatch"),
                       tg::IoError);
  bad[0] = 'X';
  write_bytes(dir.file("bad.tg"), bad);
  CHECK_THROWS_WITH_AS(b.load(dir.file("bad.tg")), doctest::Contains("not a tapegrad archive"),
                       tg::IoError);
}

TEST_CASE("checkpoint: wrong shapes, missing and extra names are named") {
  TempDir dir;
  nn::Sequential a = make_model(1);
  a.save(dir.file("m.tg"));
  nn::Sequential wider(nn::Linear(5, 6), nn::Tanh(), nn::Linear(6, 3));
  const auto before = snapshot(wider);
  CHECK_THROWS_WITH_AS(wider.load(dir.file("m.tg")),
                       doctest::Contains("parameter '0.weight' is [4, 5] float32 in the checkpoint "
                                         "but [6, 5] float32 in the model"),
                       tg::ValueError);
  CHECK(snapshot(wider) == before);
  nn::Sequential longer(nn::Linear(5, 4), nn::Tanh(), nn::Linear(4, 3), nn::Linear(3, 3));
  CHECK_THROWS_WITH_AS(longer.load(dir.file("m.tg")),
                       doctest::Contains("missing parameter '3.weight'"), tg::ValueError);
  nn::Sequential shorter(nn::Linear(5, 4));
  CHECK_THROWS_WITH_AS(shorter.load(dir.file("m.tg")),
                       doctest::Contains("unexpected entry '2.bias'"), tg::ValueError);
  nn::Sequential f64 = make_model(3);
  f64.to(tg::kFloat64);
  CHECK_THROWS_WITH_AS(f64.load(dir.file("m.tg")), doctest::Contains("float64 in the model"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(a.load(dir.file("absent.tg")), doctest::Contains("absent.tg: cannot open"),
                       tg::IoError);
}

TEST_CASE("checkpoint: a save that fails half-way leaves the previous file intact") {
  TempDir dir;
  nn::Sequential a = make_model(1);
  a.save(dir.file("m.tg"));
  const std::vector<char> good = bytes_of(dir.file("m.tg"));
  nn::Sequential big(nn::Linear(500, 400));
  // Simulate the disk filling up mid-write: the file-size limit makes write() fail.
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  setrlimit(RLIMIT_FSIZE, &small);
  CHECK_THROWS_WITH_AS(big.save(dir.file("m.tg")),
                       doctest::Contains("the previous file, if any, is unchanged"), tg::IoError);
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK(bytes_of(dir.file("m.tg")) == good);
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path)) ++files;
  CHECK(files == 1);  // no temporary left behind
  nn::Sequential b = make_model(2);
  b.load(dir.file("m.tg"));
  CHECK(snapshot(b) == snapshot(a));
}

TEST_CASE("checkpoint: the model shares a file with other state under its prefix") {
  TempDir dir;
  nn::Sequential a = make_model(1), b = make_model(2);
  tg::Archive ar;
  nn::save_state(a, ar);
  ar.put("optim.step", tg::scalar_tensor(12, {.dtype = tg::kInt64}));
  ar.put_text("optim.type", "Adam");
  ar.save(dir.file("run.tg"));
  const tg::Archive back = tg::Archive::load(dir.file("run.tg"));
  nn::load_state(b, back);  // the optim.* entries are not the model's business
  CHECK(snapshot(a) == snapshot(b));
  CHECK(back.get("optim.step").item() == 12);
  CHECK(back.get_text("optim.type") == "Adam");
  CHECK(back.names().size() == 6);
}
