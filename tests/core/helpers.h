// Shared test helpers: float64 leaves with fixed seeds, approximate comparisons, gradchecks.
#pragma once
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <tapegrad/tapegrad.hpp>
#include <vector>

#include "../file_bytes.h"

namespace tg = tapegrad;

/// A module's whole state (parameters and buffers, in state_dict order) as numbers: to see that
/// two runs ended alike, or that a refused load changed nothing.
inline std::vector<double> state_values(const tg::nn::Module& m) {
  std::vector<double> r;
  for (const auto& [name, t] : m.state_dict())
    for (double v : t.to(tg::kFloat64).to_vector<double>()) r.push_back(v);
  return r;
}

/// A float64 leaf that requires grad, drawn from N(0, 1) with a fixed seed.
inline tg::Tensor leaf(const tg::Shape& shape, std::uint64_t seed = 7) {
  tg::Generator gen(seed);
  return tg::randn(shape, {.dtype = tg::kFloat64, .requires_grad = true}, &gen);
}

/// A float64 leaf with the given values.
inline tg::Tensor leaf_of(std::vector<double> values, const tg::Shape& shape = {}) {
  return tg::from_vector(values, shape, {.dtype = tg::kFloat64, .requires_grad = true});
}

/// Every element of t is within tol of expected.
inline void check_values(const tg::Tensor& t, const std::vector<double>& expected,
                         double tol = 1e-12) {
  const std::vector<double> got = t.to_vector<double>();
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", expected " << expected[i]);
    CHECK(std::abs(got[i] - expected[i]) <= tol * (1 + std::abs(expected[i])));
  }
}

/// gradcheck passes (central differences, float64, |a - n| <= 1e-6 + 1e-4 |n|) and no element
/// is off by more than 1e-6 relative (absolute below 1).
inline void check_gradient(const std::function<tg::Tensor()>& fn,
                           const std::vector<tg::Tensor>& inputs) {
  const tg::GradcheckResult r = tg::gradcheck(fn, inputs);
  INFO(r.message);
  CHECK(r.ok);
  CHECK(r.max_mixed_error <= 1e-6);
}

/// gradgradcheck passes (second-order central differences, float64) and no element is off by
/// more than 1e-6 relative (absolute below 1).
inline void check_second(const std::function<tg::Tensor()>& fn,
                         const std::vector<tg::Tensor>& inputs) {
  const tg::GradcheckResult r = tg::gradgradcheck(fn, inputs);
  INFO(r.message);
  CHECK(r.ok);
  CHECK(r.max_mixed_error <= 1e-6);
}

/// The first-order gradients with and without create_graph agree to float64 rounding: the
/// fast kernels and their recorded-ops formulas cannot drift apart.
inline void check_same_first_order(const std::function<tg::Tensor()>& fn,
                                   const std::vector<tg::Tensor>& inputs) {
  tg::Generator gen(11);
  const tg::Tensor y = fn();
  const tg::Tensor v = tg::randn(y.shape(), {.dtype = y.dtype()}, &gen);
  const std::vector<tg::Tensor> fast = tg::grad({fn()}, inputs, {v});
  const std::vector<tg::Tensor> graph = tg::grad({fn()}, inputs, {v}, {.create_graph = true});
  REQUIRE(fast.size() == graph.size());
  for (std::size_t i = 0; i < fast.size(); ++i) {
    CAPTURE(i);
    CHECK(graph[i].shape() == fast[i].shape());
    check_values(graph[i].detach(), fast[i].to_vector<double>(), 1e-14);
  }
}

/// A float64 leaf with values in [lo, hi).
inline tg::Tensor leaf_in(const tg::Shape& shape, double lo, double hi, std::uint64_t seed = 3) {
  tg::Generator gen(seed);
  return (tg::rand(shape, {.dtype = tg::kFloat64}, &gen) * (hi - lo) + lo).requires_grad_(true);
}

/// A function of some float64 leaves, named, for a table of second-order checks.
struct SecondOrderCase {
  std::string name;
  std::function<tg::Tensor()> fn;
  std::vector<tg::Tensor> inputs;
};

/// check_second and check_same_first_order on every case of a table.
inline void check_second_order(const std::vector<SecondOrderCase>& cases) {
  for (const SecondOrderCase& c : cases) {
    CAPTURE(c.name);
    check_second(c.fn, c.inputs);
    check_same_first_order(c.fn, c.inputs);
  }
}

/// The corruption sweep: every truncation of `bytes` (each length below its size) and one bit
/// flipped in every byte, each written to `path` and loaded by `load`, which must either
/// succeed or throw a tapegrad::Error naming the file, after which `unchanged()` must hold.
/// Returns how many corrupted files loaded (bytes a format cannot check, e.g. IDX pixels).
template <typename Load, typename Unchanged>
std::size_t sweep_corruptions(const std::vector<char>& bytes, const std::string& path, Load load,
                              Unchanged unchanged) {
  std::size_t loaded = 0;
  std::string problem;
  auto attempt = [&](const std::vector<char>& b, const std::string& what) {
    write_bytes(path, b);
    try {
      load();
      ++loaded;
    } catch (const tg::Error& e) {
      if (problem.empty() && std::string(e.what()).find(path) == std::string::npos)
        problem = what + ": the message does not name the file: " + e.what();
      if (problem.empty() && !unchanged()) problem = what + ": a failed load changed state";
    }
  };
  for (std::size_t n = 0; n < bytes.size(); ++n)
    attempt({bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)},
            "truncated to " + std::to_string(n) + " bytes");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::vector<char> b = bytes;
    b[i] = static_cast<char>(b[i] ^ (1 << (i % 8)));
    attempt(b, "bit " + std::to_string(i % 8) + " of byte " + std::to_string(i) + " flipped");
  }
  INFO(problem);
  CHECK(problem.empty());
  return loaded;
}

/// A fresh directory under the system temp dir, removed with everything in it at scope exit.
struct TempDir {
  // In memory when the machine has /dev/shm: corruption sweeps write thousands of small files.
  std::filesystem::path path =
      (std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                 : std::filesystem::temp_directory_path()) /
      ("tapegrad_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
};
