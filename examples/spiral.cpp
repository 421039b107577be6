// Three interleaved spirals (300 points in 2-D), classified by a two-layer network trained with
// full-batch gradient descent.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
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
  const tg::Tensor y = tg::from_vector(ys);

  tg::nn::Sequential model(tg::nn::Linear(2, kHidden), tg::nn::Tanh(),
                           tg::nn::Linear(kHidden, kClasses));
  std::cout << model << "\n";
  // Batch gradient descent: SGD stepping once per pass over the whole data set.
  tg::optim::SGD opt(model.parameters(), {.lr = 1.0});
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= 2000; ++epoch) {
    tg::Tensor logits = model(x);
    tg::Tensor loss = tg::nn::functional::cross_entropy(logits, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (epoch % 200 == 0) {
      tg::NoGradGuard no_grad;
      const double acc = tg::eq(tg::argmax(logits, 1), y).to(tg::kFloat32).mean().item();
      std::printf("epoch %4d  loss %.4f  train accuracy %5.1f%%\n", epoch, loss.item(), 100 * acc);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("trained a 2-%d-%d network on %d spiral points in %.2f s\n", kHidden, kClasses,
              kPerClass * kClasses, secs);
}
