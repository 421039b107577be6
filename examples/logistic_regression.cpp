// Logistic regression (sigmoid + binary cross-entropy) on two Gaussian clouds in 2-D, trained
// twice from the same start: batch gradient descent (one step per pass over the data) and
// stochastic gradient descent (one step per sample).
#include <cstdio>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace data = tg::data;

namespace {
double accuracy(nn::Module& model, const tg::Tensor& x, const tg::Tensor& y) {
  tg::NoGradGuard no_grad;
  const tg::Tensor pred = tg::gt(tg::sigmoid(model(x)), tg::scalar_tensor(0.5));
  return tg::eq(pred, y).mean().item();
}
}  // namespace

int main() {
  tg::manual_seed(7);
  // 100 points around (-1, -1) labelled 0 and 100 around (1.5, 1) labelled 1.
  const tg::Tensor a = tg::randn({100, 2}) - 1.0;
  const tg::Tensor b = tg::randn({100, 2}) + tg::tensor({1.5, 1.0});
  const tg::Tensor x = tg::cat({a, b});
  const tg::Tensor y = tg::cat({tg::zeros({100, 1}), tg::ones({100, 1})});
  const data::TensorDataset ds(x, y);

  for (const auto& [name, batch, lr] : {std::tuple{"batch GD", data::kFullBatch, 0.5},
                                        std::tuple{"SGD     ", std::int64_t{1}, 0.01}}) {
    tg::Generator init(1);
    nn::Linear model(2, 1, true, &init);  // the same start for both
    tg::optim::SGD opt(model.parameters(), {.lr = lr});
    data::DataLoader loader(ds, {.batch_size = batch, .shuffle = true, .seed = 3});
    std::int64_t steps = 0;
    for (int epoch = 1; epoch <= 20; ++epoch)
      for (auto& [xb, yb] : loader) {
        tg::Tensor loss = nn::functional::binary_cross_entropy_with_logits(model(xb), yb);
        opt.zero_grad();
        loss.backward();
        opt.step();
        ++steps;
      }
    tg::NoGradGuard no_grad;
    const double loss = nn::functional::binary_cross_entropy_with_logits(model(x), y).item();
    std::printf("%s  %5lld steps  loss %.4f  accuracy %.1f%%  w = [%.3f, %.3f]  b = %.3f\n", name,
                static_cast<long long>(steps), loss, 100 * accuracy(model, x, y),
                model.weight().at({0, 0}), model.weight().at({0, 1}), model.bias().item());
  }
}
