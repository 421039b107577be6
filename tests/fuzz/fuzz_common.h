// Shared by the fuzz targets: the input written to a file (the readers take paths), and the
// contract check that turns a broken promise into a crash libFuzzer reports.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tapegrad/tapegrad.hpp>
#include <vector>

namespace tg = tapegrad;

namespace fuzz {

/// A per-process scratch directory (in /dev/shm when there is one: no disk writes per input).
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    auto d = base / ("tapegrad_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] { std::filesystem::remove_all(scratch()); });
    return d;
  }();
  return dir;
}

/// Writes bytes to scratch()/name and returns the path.
inline std::string write(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

/// Aborts with a message when a promise of the API does not hold (libFuzzer saves the input).
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "contract broken: %s\n", what);
    std::abort();
  }
}

/// Equal shape, dtype and bit patterns (NaN payloads included).
inline bool same_bits(const tg::Tensor& a, const tg::Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  auto eq = [](const auto& x, const auto& y) {
    return x.size() == y.size() &&
           (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(x[0])) == 0);
  };
  switch (a.dtype()) {
    case tg::kFloat32: return eq(a.to_vector<float>(), b.to_vector<float>());
    case tg::kFloat64: return eq(a.to_vector<double>(), b.to_vector<double>());
    default: return eq(a.to_vector<std::int64_t>(), b.to_vector<std::int64_t>());
  }
}

/// Every value a load may change, by name, as bytes: model parameters, optimizer and schedule
/// state, the global generator. Two snapshots compare equal exactly when nothing changed.
inline std::map<std::string, std::string> snapshot(
    const tg::nn::Module& model, const tg::optim::Optimizer* opt = nullptr,
    const tg::optim::SchedulerState* sched = nullptr) {
  tg::Archive ar;
  tg::nn::save_state(model, ar);
  if (opt) opt->save_state(ar);
  if (sched) sched->save_state(ar);
  std::map<std::string, std::string> s;
  for (const std::string& name : ar.names()) {
    if (ar.is_tensor(name)) {
      const std::vector<double> v = ar.get(name).to_vector<double>();  // bytes: NaN == NaN here
      s[name].assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
    } else {
      s[name] = ar.get_text(name);
    }
  }
  s["rng"] = tg::default_generator().state();
  return s;
}

/// The model fuzz_module_load loads into (and make_seeds saves from).
inline tg::nn::Sequential small_model(std::uint64_t seed = 1) {
  tg::Generator gen(seed);
  tg::nn::Sequential s;
  s.push_back(tg::nn::Linear(3, 4, true, &gen));
  s.push_back(tg::nn::ReLU());
  s.push_back(tg::nn::Linear(4, 2, true, &gen));
  return s;
}

/// The run fuzz_checkpoint loads into (and make_seeds saves from): state everywhere, with two
/// groups, AMSGrad buffers and a chained schedule.
struct Run {
  tg::nn::Sequential net;
  std::unique_ptr<tg::optim::Adam> opt;
  std::unique_ptr<tg::optim::SequentialLR> sched;
  explicit Run(int steps = 1) {
    namespace nn = tg::nn;
    namespace optim = tg::optim;
    tg::Generator gen(3);
    net.push_back(nn::Linear(2, 3, true, &gen));
    net.push_back(nn::Tanh());
    net.push_back(nn::Linear(3, 1, true, &gen));
    auto named = net.named_parameters();
    opt = std::make_unique<optim::Adam>(optim::NamedParams(named.begin(), named.begin() + 2),
                                        optim::AdamOptions{.lr = 0.01, .amsgrad = true});
    opt->add_param_group(optim::NamedParams(named.begin() + 2, named.end()), {.lr = 0.05});
    auto warm = std::make_shared<optim::LinearLR>(*opt, 0.5, 1.0, 2);
    auto cos = std::make_shared<optim::CosineAnnealingLR>(*opt, 4);
    sched = std::make_unique<optim::SequentialLR>(
        *opt, std::vector<std::shared_ptr<optim::LRScheduler>>{warm, cos},
        std::vector<std::int64_t>{2});
    for (int i = 0; i < steps; ++i) {
      opt->zero_grad();
      net(tg::tensor({0.5, -1.0}, {1, 2})).sum().backward();
      opt->step();
      sched->step();
    }
  }
};

}  // namespace fuzz
