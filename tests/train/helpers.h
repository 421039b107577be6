// Shared by the train tests: a tiny classifier whose logits are its inputs, and its data.
#pragma once
#include "../core/helpers.h"

namespace train = tg::train;
namespace nn = tg::nn;
namespace data = tg::data;

/// Linear(k, k) set to the identity, then dropout: in eval mode the logits are the inputs, in
/// training mode they are not (so a forgotten eval() shows).
inline nn::Sequential identity_model(std::int64_t k, tg::Dtype dtype = tg::kFloat64) {
  nn::Sequential m(nn::Linear(k, k), nn::Dropout(0.5));
  auto p = m.parameters();
  p[0].set_data(tg::eye(k, {.dtype = dtype}));
  p[1].set_data(tg::zeros({k}, {.dtype = dtype}));
  return m;
}

/// A training run with state everywhere: dropout drawing from the global generator, a shuffled
/// loader, Adam's buffers, a step schedule. Two Runs made alike train alike.
struct Run {
  data::TensorDataset ds;
  data::DataLoader loader;
  nn::Sequential net;
  tg::optim::Adam opt;
  tg::optim::StepLR sched;

  static data::TensorDataset make_data() {
    tg::Generator gen(11);
    tg::Tensor x = tg::randn({40, 4}, {.dtype = tg::kFloat64}, &gen);
    std::vector<std::int64_t> y(40);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int64_t>(i * 7 % 3);
    return {x, tg::from_vector(y, {40})};
  }
  static nn::Sequential make_net() {
    tg::Generator gen(5);
    nn::Sequential m(nn::Linear(4, 8, true, &gen), nn::Tanh(), nn::Dropout(0.2),
                     nn::Linear(8, 3, true, &gen));
    m.to(tg::kFloat64);
    return m;
  }
  Run() : Run(make_data(), make_net()) {}
  /// Another data set and network, trained the same way.
  Run(data::TensorDataset data, nn::Sequential model)
      : ds(std::move(data)),
        loader(ds, {.batch_size = 8, .shuffle = true, .seed = 1}),  // 5 batches an epoch
        net(std::move(model)),
        opt(net.named_parameters(), {.lr = 0.05}),
        sched(opt, 2, 0.5) {
    tg::manual_seed(99);
  }
  std::vector<std::vector<double>> params() const {
    std::vector<std::vector<double>> r;
    for (const tg::Tensor& p : net.parameters()) r.push_back(p.to_vector<double>());
    return r;
  }
  /// Every state dict entry's values: parameters and buffers (running statistics, counters).
  std::vector<std::vector<double>> state() const {
    std::vector<std::vector<double>> r;
    for (const auto& [name, t] : net.state_dict()) r.push_back(t.to_vector<double>());
    return r;
  }
};

/// What a function wrote to file descriptor fd (1: stdout, 2: stderr).
template <typename F>
std::string output_of(int fd, F f) {
  std::fflush(nullptr);
  const int saved = ::dup(fd);
  std::FILE* tmp = std::tmpfile();
  ::dup2(::fileno(tmp), fd);
  try {
    f();
  } catch (...) {
    std::fflush(nullptr);
    ::dup2(saved, fd);
    ::close(saved);
    std::fclose(tmp);
    throw;
  }
  std::fflush(nullptr);
  ::dup2(saved, fd);
  ::close(saved);
  std::rewind(tmp);
  std::string out;
  for (int c; (c = std::fgetc(tmp)) != EOF;) out += static_cast<char>(c);
  std::fclose(tmp);
  return out;
}

template <typename F>
std::string stderr_of(F f) {
  return output_of(2, f);
}
