// The files tapegrad's writers produce, as Python reads them. Each is read back here; with
// TAPEGRAD_IO_CHECK_DIR set they are also left in that directory with an expected.json, for
//   TAPEGRAD_IO_CHECK_DIR=/tmp/tg_io build/tests/core_tests -tc='written files*'
//   /usr/bin/python3 scripts/gen_io_fixtures.py --check /tmp/tg_io
// which reads them with NumPy 1.24, the safetensors layout and torch.load (PyTorch 1.13) and
// printed, on 2026-12-06, "same" for every file.
#include <cstdlib>

#include "../helpers.h"
#include "fixtures.h"

namespace io = tg::io;

namespace {
bool same_values(const tg::Tensor& a, const tg::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.dtype() == tg::kInt64 ? a.to_vector<std::int64_t>() == b.to_vector<std::int64_t>()
                                  : a.to_vector<double>() == b.to_vector<double>());
}
}  // namespace

TEST_CASE("written files: npy, npz, safetensors and torch read back, and are left for Python") {
  TempDir tmp;
  const char* env = std::getenv("TAPEGRAD_IO_CHECK_DIR");
  const std::filesystem::path dir = env ? std::filesystem::path(env) : tmp.path;
  std::filesystem::create_directories(dir);
  tg::Generator gen(11);
  const io::TensorDict tensors = {
      {"weight", tg::randn({3, 4}, {}, &gen)},
      {"bias", tg::randn({4}, {.dtype = tg::kFloat64}, &gen)},
      {"steps", tg::from_vector(std::vector<std::int64_t>{1, -2, 1LL << 40})},
      {"scalar", tg::scalar_tensor(0.25)},
      {"empty", tg::zeros({0, 2})}};
  nlohmann::ordered_json expected;
  auto describe = [](const tg::Tensor& t) {
    nlohmann::json values = t.dtype() == tg::kInt64 ? nlohmann::json(t.to_vector<std::int64_t>())
                                                    : nlohmann::json(t.to_vector<double>());
    return nlohmann::json{
        {"dtype", tg::dtype_name(t.dtype())}, {"shape", t.shape()}, {"values", values}};
  };
  auto file = [&](const std::string& name) { return (dir / name).string(); };
  for (const auto& entry : tensors) {
    const std::string& name = entry.first;
    const tg::Tensor& t = entry.second;
    io::save_npy(t, file(name + ".npy"));
    expected[name + ".npy"] = {{"array", describe(t)}};
    CHECK(same_values(io::load_npy(file(name + ".npy")), t));
  }
  nlohmann::ordered_json all = nlohmann::ordered_json::object();
  for (const auto& entry : tensors) all[entry.first] = describe(entry.second);
  for (const char* name : {"stored.npz", "deflated.npz", "tensors.safetensors"}) {
    const std::string n = name;
    if (n == "tensors.safetensors")
      io::save_safetensors(tensors, file(n), {{"format", "pt"}});
    else
      io::save_npz(tensors, file(n), n == "deflated.npz");
    expected[n] = all;
    const io::TensorDict back =
        n == "tensors.safetensors" ? io::load_safetensors(file(n)) : io::load_npz(file(n));
    REQUIRE(back.size() == tensors.size());
    for (std::size_t i = 0; i < back.size(); ++i) {
      CHECK(back[i].first == tensors[i].first);
      CHECK(same_values(back[i].second, tensors[i].second));
    }
  }
  // torch.save's format: a state dict (torch.load(path, weights_only=True) reads it) and a
  // checkpoint holding numbers (torch 1.13's weights_only loader refuses floats: torch.load).
  io::save_torch(tensors, file("state_dict.pt"));
  expected["state_dict.pt"] = all;
  io::TorchValue ckpt = io::TorchValue::dict();
  ckpt.set("model", io::TorchValue::from_state_dict(tensors));
  ckpt.set("epoch", 3);
  ckpt.set("lr", 1e-3);
  io::save_torch(ckpt, file("checkpoint.pt"));
  nlohmann::ordered_json prefixed = nlohmann::ordered_json::object();
  for (const auto& entry : tensors) prefixed["model." + entry.first] = describe(entry.second);
  expected["checkpoint.pt"] = prefixed;
  for (const char* name : {"state_dict.pt", "checkpoint.pt"}) {
    const io::TensorDict back = io::load_torch_value(file(name)).tensors();
    REQUIRE(back.size() == tensors.size());
    for (std::size_t i = 0; i < back.size(); ++i)
      CHECK(same_values(back[i].second, tensors[i].second));
  }
  std::ofstream(file("expected.json")) << expected.dump(1) << "\n";
}
