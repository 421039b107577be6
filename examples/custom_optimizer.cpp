// A new optimizer written outside the library: Lion (Chen et al. 2023, "Symbolic Discovery of
// Optimization Algorithms"), used like the built-ins, with its state saved and restored by
// the base class. Trains the XOR network, checkpoints the run, resumes it exactly.
#include <cstdio>
#include <filesystem>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace train = tg::train;

struct LionOptions {
  double lr = 1e-4;
  std::pair<double, double> betas = {0.9, 0.99};
  double weight_decay = 0;
};

// c = b1 m + (1 - b1) g;  p -= lr (sign(c) + wd p);  m = b2 m + (1 - b2) g
class Lion : public optim::OptimizerWith<Lion, LionOptions> {
 public:
  using OptimizerWith::OptimizerWith;  // Lion(params, options), params plain or named
  static constexpr const char* kName = "Lion";
  static std::vector<std::string> buffer_names() { return {"exp_avg"}; }
  static void validate(const LionOptions& o) {
    optim::require(o.lr >= 0, "Lion", "lr", o.lr, ">= 0");
    optim::require(o.betas.first >= 0 && o.betas.first < 1, "Lion", "beta1", o.betas.first,
                   "in [0, 1)");
    optim::require(o.betas.second >= 0 && o.betas.second < 1, "Lion", "beta2", o.betas.second,
                   "in [0, 1)");
    optim::require(o.weight_decay >= 0, "Lion", "weight_decay", o.weight_decay, ">= 0");
  }

 protected:
  // step() runs this under NoGradGuard, once per parameter that has a gradient.
  void update(std::size_t group, optim::ParamState& s, const tg::Tensor& p,
              const tg::Tensor& g) override {
    const LionOptions& o = options(group);
    const tg::Tensor& m = buffer(s, 0, p);
    const tg::Tensor c = m * o.betas.first + g * (1 - o.betas.first);
    p.mul_(1 - o.lr * o.weight_decay).add_(tg::sign(c), -o.lr);
    m.mul_(o.betas.second).add_(g, 1 - o.betas.second);
  }
};

int main() {
  const tg::Tensor x = tg::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const tg::Tensor y = tg::tensor({0, 1, 1, 0}, {4, 1});
  auto make_net = [] {
    tg::Generator gen(0);
    return nn::Sequential(nn::Linear(2, 8, true, &gen), nn::Tanh(), nn::Linear(8, 1, true, &gen));
  };
  auto train = [&](nn::Sequential& net, Lion& opt, int steps) {
    double loss = 0;
    for (int i = 0; i < steps; ++i) {
      tg::Tensor l = nn::functional::mse_loss(net(x), y);
      opt.zero_grad();
      l.backward();
      opt.step();
      loss = l.item();
    }
    return loss;
  };

  nn::Sequential net = make_net();
  Lion opt(net.parameters(), {.lr = 0.01});
  std::printf("Lion on XOR: loss %.5f after 200 steps\n", train(net, opt, 200));
  train::save_checkpoint("lion.tg", net, opt);
  const double final_loss = train(net, opt, 300);
  std::printf("             loss %.5f after 500 steps\n", final_loss);

  nn::Sequential resumed = make_net();
  Lion opt2(resumed.parameters(), {.lr = 0.01});
  train::load_checkpoint("lion.tg", resumed, opt2);
  std::filesystem::remove("lion.tg");
  const double resumed_loss = train(resumed, opt2, 300);
  const bool same = resumed_loss == final_loss && opt2.state(0).step == 500;
  std::printf("resumed from the checkpoint at step 200: loss %.5f at step 500 (%s)\n", resumed_loss,
              same ? "identical" : "DIFFERENT");
  return same && final_loss < 0.01 ? 0 : 1;
}
