// Three interleaved spirals (300 points in 2-D), classified by a two-layer network trained with
// full-batch gradient descent, written directly with tensors and autograd.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;

int main() {
  tg::manual_seed(0);
  constexpr int kPerClass = 100, kClasses = 3, kHidden = 64;

  // Spiral data as in CS231n: class k winds from the centre, with angular noise.
  std::vector<float> xs;
  std::vector<std::int64_t> ys;
  tg::Generator& gen = tg::default_generator();
  for (int k = 0; k < kClasses; ++k)
    for (int i = 0; i < kPerClass; ++i) {
      const double r = double(i) / (kPerClass - 1);
      const double theta = k * 4.0 + 4.0 * r + gen.normal(0, 0.2);
      xs.push_back(float(r * std::sin(theta)));
      xs.push_back(float(r * std::cos(theta)));
      ys.push_back(k);
    }
  const tg::Tensor x = tg::from_vector(xs, {kPerClass * kClasses, 2});
  const tg::Tensor y = tg::from_vector(ys, {kPerClass * kClasses, 1});

  // Parameters, initialised like PyTorch's Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  auto uniform = [](tg::Shape shape, double fan_in) {
    const double bound = 1 / std::sqrt(fan_in);
    tg::Tensor t = tg::rand(shape) * (2 * bound) - bound;
    return t.detach().requires_grad_();
  };
  tg::Tensor w1 = uniform({2, kHidden}, 2), b1 = uniform({kHidden}, 2);
  tg::Tensor w2 = uniform({kHidden, kClasses}, kHidden), b2 = uniform({kClasses}, kHidden);
  std::vector<tg::Tensor> params{w1, b1, w2, b2};

  const double lr = 1.0;
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= 2000; ++epoch) {
    tg::Tensor logits = tg::matmul(tg::tanh(tg::matmul(x, w1) + b1), w2) + b2;
    // Cross-entropy: the mean negative log-probability of each point's own class.
    tg::Tensor loss = -tg::log_softmax(logits, 1).gather(1, y).mean();
    loss.backward();
    {
      tg::NoGradGuard no_grad;
      for (tg::Tensor& p : params) {
        p.add_(p.grad(), -lr);
        p.zero_grad();
      }
    }
    if (epoch % 200 == 0) {
      tg::NoGradGuard no_grad;
      const double acc =
          tg::eq(tg::argmax(logits, 1, true), y).to(tg::kFloat32).mean().item();
      std::printf("epoch %4d  loss %.4f  train accuracy %5.1f%%\n", epoch, loss.item(),
                  100 * acc);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("trained a 2-%d-%d network on %d spiral points in %.2f s\n", kHidden, kClasses,
              kPerClass * kClasses, secs);
}
