// The run the optimizer and whole-run checkpoint tests share: a model with every kind of state
// (two groups, AMSGrad buffers, a sequential schedule, clipping, dropout drawing from the global
// generator), and an Archive less one entry.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "reference.h"

namespace optim_run {
namespace optim = tg::optim;
namespace nn = tg::nn;

inline std::string temp_file(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + name)).string();
}

// A run with every kind of state: two groups, AMSGrad buffers, a chained schedule, clipping and
// dropout drawing from the global generator.
struct Run {
  nn::Sequential net;
  std::unique_ptr<optim::Adam> opt;
  std::unique_ptr<optim::SequentialLR> sched;
  tg::Tensor x = tg::tensor({0.1, 0.2, 0.3, -0.4, 0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, 1.2}, {4, 3});
  tg::Tensor y = tg::tensor({1, -1, 0.5, 0}, {4, 1});

  explicit Run(std::uint64_t seed) {
    tg::Generator gen(seed);
    net.push_back(nn::Linear(3, 5, true, &gen));
    net.push_back(nn::Tanh());
    net.push_back(nn::Dropout(0.2));
    net.push_back(nn::Linear(5, 1, true, &gen));
    auto named = net.named_parameters();
    opt = std::make_unique<optim::Adam>(optim::NamedParams(named.begin(), named.begin() + 2),
                                        optim::AdamOptions{.lr = 0.01, .amsgrad = true});
    opt->add_param_group(optim::NamedParams(named.begin() + 2, named.end()),
                         {.lr = 0.05, .weight_decay = 0.01});
    auto warm = std::make_shared<optim::LinearLR>(*opt, 0.5, 1.0, 3);
    auto cos = std::make_shared<optim::CosineAnnealingLR>(*opt, 6);
    sched = std::make_unique<optim::SequentialLR>(
        *opt, std::vector<std::shared_ptr<optim::LRScheduler>>{warm, cos},
        std::vector<std::int64_t>{3});
  }
  void train(int steps) {
    for (int i = 0; i < steps; ++i) {
      tg::Tensor loss = nn::functional::mse_loss(net(x), y);
      opt->zero_grad();
      loss.backward();
      optim::clip_grad_norm_(net.parameters(), 0.5);
      opt->step();
      sched->step();
    }
  }
  std::vector<std::vector<double>> params() const {
    std::vector<std::vector<double>> r;
    for (const tg::Tensor& p : net.parameters()) r.push_back(p.to_vector<double>());
    return r;
  }
};

// ar less one entry.
inline tg::Archive without(const tg::Archive& ar, const std::string& dropped) {
  tg::Archive r;
  for (const std::string& n : ar.names())
    if (n != dropped) {
      if (ar.is_tensor(n))
        r.put(n, ar.get(n));
      else
        r.put_text(n, ar.get_text(n));
    }
  return r;
}
}  // namespace optim_run
