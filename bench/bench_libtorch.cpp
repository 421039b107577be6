// libtorch's side (PyTorch's C++ frontend, Debian's libtorch-dev 1.13): the same workloads as
// the straightforward code a careful libtorch user writes.
#include <torch/torch.h>

#include <limits>
#include <numbers>

#include "common.h"

namespace {
// In evaluation mode (dropout off), bench::kEvalBatch images at a time.
double accuracy(torch::nn::Sequential& m, const bench::Split& s) {
  torch::NoGradGuard no_grad;
  m->eval();
  const auto x = torch::from_blob(const_cast<float*>(s.x.data()), {s.n, 784}, torch::kFloat32);
  const auto y = torch::from_blob(const_cast<std::int64_t*>(s.y.data()), {s.n}, torch::kInt64);
  std::int64_t correct = 0;
  for (std::int64_t b = 0; b < s.n; b += bench::kEvalBatch) {
    const std::int64_t n = std::min(bench::kEvalBatch, s.n - b);
    correct +=
        m->forward(x.narrow(0, b, n)).argmax(1).eq(y.narrow(0, b, n)).sum().item<std::int64_t>();
  }
  m->train();
  return static_cast<double>(correct) / static_cast<double>(s.n);
}

// The shared starting values (bench::initial_layers), copied into the layers.
void load_initial(torch::nn::Sequential& model, std::vector<bench::LayerInit> init) {
  const auto params = model->parameters();  // w1, b1, w2, b2, ...
  torch::NoGradGuard no_grad;
  for (std::size_t l = 0; l < init.size(); ++l) {
    params[2 * l].copy_(torch::from_blob(init[l].w.data(), params[2 * l].sizes()));
    params[2 * l + 1].copy_(torch::from_blob(init[l].b.data(), params[2 * l + 1].sizes()));
  }
}

void mnist(torch::nn::Sequential& model, torch::optim::Optimizer& opt, std::int64_t batch,
           bool nll = false) {
  const bench::Split train = bench::load(bench::data_dir(), "train");
  const bench::Split test = bench::load(bench::data_dir(), "t10k");
  const auto X =
      torch::from_blob(const_cast<float*>(train.x.data()), {train.n, 784}, torch::kFloat32);
  const auto Y =
      torch::from_blob(const_cast<std::int64_t*>(train.y.data()), {train.n}, torch::kInt64);
  auto order = bench::batch_order(train.n);
  const auto O = torch::from_blob(order.data(), {train.n}, torch::kInt64);
  const double t0 = bench::now();
  for (std::int64_t b = 0; b + batch <= train.n; b += batch) {
    const auto idx = O.narrow(0, b, batch);
    const auto out = model->forward(X.index_select(0, idx));
    const auto y = Y.index_select(0, idx);
    const auto loss = nll ? torch::nll_loss(out, y) : torch::nn::functional::cross_entropy(out, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  const double secs = bench::now() - t0;
  bench::report(secs, accuracy(model, test));
}

// B5: a character-level LSTM language model with libtorch's modules (its LSTM runs the fused
// kernels of at::lstm).
void b5() {
  using namespace bench;
  const Text text = b5_text();
  const std::int64_t V = text.vocab;
  torch::nn::Embedding embed(V, kB5Embed);
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(kB5Embed, kB5Hidden).num_layers(kB5Layers));
  torch::nn::Linear head(kB5Hidden, V);
  std::vector<torch::Tensor> params = embed->parameters();
  for (const auto& p : lstm->parameters()) params.push_back(p);
  for (const auto& p : head->parameters()) params.push_back(p);
  auto init = b5_initial(text.vocab);
  {
    torch::NoGradGuard no_grad;
    for (std::size_t k = 0; k < params.size(); ++k)
      params[k].copy_(torch::from_blob(init[k].data(), params[k].sizes()));
  }
  torch::optim::Adam opt(params, torch::optim::AdamOptions(2e-3));
  const auto order = batch_order((static_cast<std::int64_t>(text.ids.size()) - 1) / kB5Seq);
  const std::int64_t steps = b5_steps(text);
  std::vector<std::int64_t> x, y;
  TailMean recent{steps};
  const double t0 = now();
  for (std::int64_t k = 0; k < steps; ++k) {
    text_batch(text, order, k, kB5Seq, kB5Batch, x, y);
    const auto xs = torch::from_blob(x.data(), {kB5Seq, kB5Batch}, torch::kInt64);
    const auto ys = torch::from_blob(y.data(), {kB5Seq * kB5Batch}, torch::kInt64);
    const auto logits = head->forward(std::get<0>(lstm->forward(embed->forward(xs))));
    const auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, V}), ys);
    opt.zero_grad();
    loss.backward();
    opt.step();
    recent.add(k, loss.item<double>());
  }
  report_loss(now() - t0, recent.mean);
}

// B6: a small GPT-style character model with libtorch's TransformerEncoder (time first,
// post-norm: what its C++ layer offers).
void b6() {
  using namespace bench;
  const Text text = b5_text();
  const std::int64_t V = text.vocab;
  torch::nn::Embedding tok(V, kB6Dim), pos(kB6Seq, kB6Dim);
  torch::nn::TransformerEncoderLayer layer(
      torch::nn::TransformerEncoderLayerOptions(kB6Dim, kB6Heads)
          .dim_feedforward(kB6Ff)
          .dropout(0.0)
          .activation(torch::kGELU));
  torch::nn::TransformerEncoder encoder(
      torch::nn::TransformerEncoderOptions(layer, kB6Layers)
          .norm(torch::nn::AnyModule(torch::nn::LayerNorm(torch::nn::LayerNormOptions({kB6Dim})))));
  torch::nn::Linear head(kB6Dim, V);
  std::vector<torch::Tensor> params;
  auto load = [&](const std::string& prefix, torch::nn::Module& m) {
    torch::NoGradGuard no_grad;
    for (const auto& item : m.named_parameters()) {
      const auto shape = item.value().sizes().vec();
      auto v = b6_value(prefix + item.key(), shape);
      item.value().copy_(torch::from_blob(v.data(), item.value().sizes()));
      params.push_back(item.value());
    }
  };
  load("tok.", *tok);
  load("pos.", *pos);
  load("encoder.", *encoder);
  load("head.", *head);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
  const auto causal =
      torch::full({kB6Seq, kB6Seq}, -std::numeric_limits<float>::infinity()).triu(1);
  const auto positions = torch::arange(kB6Seq);
  const auto order = batch_order((static_cast<std::int64_t>(text.ids.size()) - 1) / kB6Seq);
  const std::int64_t steps = b6_steps(text);
  std::vector<std::int64_t> x, y;
  TailMean recent{steps};
  const double t0 = now();
  for (std::int64_t k = 0; k < steps; ++k) {
    text_batch(text, order, k, kB6Seq, kB6Batch, x, y);
    const auto xs = torch::from_blob(x.data(), {kB6Seq, kB6Batch}, torch::kInt64);
    const auto ys = torch::from_blob(y.data(), {kB6Seq * kB6Batch}, torch::kInt64);
    const auto h = tok->forward(xs) + pos->forward(positions).unsqueeze(1);
    const auto logits = head->forward(encoder->forward(h, causal));
    const auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, V}), ys);
    opt.zero_grad();
    loss.backward();
    opt.step();
    recent.add(k, loss.item<double>());
  }
  report_loss(now() - t0, recent.mean);
}
// HVP as bench_tapegrad runs it.
void hvp() {
  torch::nn::Sequential model(torch::nn::Linear(784, 128), torch::nn::Sigmoid(),
                              torch::nn::Linear(128, 10));
  load_initial(model, bench::initial_parameters({784, 128, 10}));
  std::vector<float> xs;
  std::vector<std::int64_t> ys;
  bench::hvp_batch(xs, ys);
  const auto x = torch::from_blob(xs.data(), {64, 784});
  const auto y = torch::from_blob(ys.data(), {64}, torch::kInt64);
  const std::vector<torch::Tensor> params = model->parameters();
  std::vector<torch::Tensor> v;
  for (const auto& p : params) v.push_back(torch::ones_like(p) * 0.01);
  auto loss = [&] { return torch::nn::functional::cross_entropy(model->forward(x), y); };
  const double first = bench::us_per_call([&] { torch::autograd::grad({loss()}, params); });
  const double hv = bench::us_per_call([&] {
    const auto g = torch::autograd::grad({loss()}, params, {}, true, true);
    auto dot = (g[0] * v[0]).sum();
    for (std::size_t i = 1; i < g.size(); ++i) dot = dot + (g[i] * v[i]).sum();
    torch::autograd::grad({dot}, params);
  });
  bench::report_hvp(first, hv);
}
// PINN as bench_tapegrad runs it.
void pinn() {
  torch::nn::Sequential u(torch::nn::Linear(1, 32), torch::nn::Tanh(), torch::nn::Linear(32, 32),
                          torch::nn::Tanh(), torch::nn::Linear(32, 1));
  load_initial(u, bench::initial_parameters({1, 32, 32, 1}));
  u->to(torch::kFloat64);
  auto points = bench::pinn_points(64), end_points = bench::pinn_points(2);
  const auto x =
      torch::from_blob(points.data(), {64, 1}, torch::kFloat64).clone().requires_grad_(true);
  const auto ends = torch::from_blob(end_points.data(), {2, 1}, torch::kFloat64).clone();
  const double pi = std::numbers::pi;
  torch::optim::Adam opt(u->parameters(), torch::optim::AdamOptions(1e-3));
  double last = 0;
  const double t0 = bench::now();
  for (int step = 0; step < bench::kPinnSteps; ++step) {
    const auto y = u->forward(x);
    const auto du = torch::autograd::grad({y.sum()}, {x}, {}, true, true)[0];
    const auto d2u = torch::autograd::grad({du.sum()}, {x}, {}, true, true)[0];
    const auto loss =
        (d2u + pi * pi * torch::sin(x * pi)).square().mean() + u->forward(ends).square().mean();
    opt.zero_grad();
    loss.backward();
    opt.step();
    last = loss.item<double>();
  }
  bench::report_loss(bench::now() - t0, last);
}
}  // namespace

int main(int argc, char** argv) {
  const bench::Workload w = bench::parse_args(argc, argv);
  if (w.threads > 0) torch::set_num_threads(w.threads);
  torch::manual_seed(0);
  if (w.name == "B1") {
    torch::nn::Sequential model(torch::nn::Linear(784, 128), torch::nn::Sigmoid(),
                                torch::nn::Linear(128, 10));
    load_initial(model, bench::initial_parameters({784, 128, 10}));
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    mnist(model, opt, 64);
  } else if (w.name == "B2") {
    torch::nn::Sequential model(torch::nn::Linear(784, 1024), torch::nn::ReLU(),
                                torch::nn::Linear(1024, 1024), torch::nn::ReLU(),
                                torch::nn::Linear(1024, 10));
    load_initial(model, bench::initial_parameters({784, 1024, 1024, 10}));
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
    mnist(model, opt, 256);
  } else if (w.name == "B4") {
    torch::nn::Sequential model(
        torch::nn::Unflatten(torch::nn::UnflattenOptions(1, {1, 28, 28})),
        torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 10, 5)), torch::nn::MaxPool2d(2),
        torch::nn::ReLU(), torch::nn::Conv2d(torch::nn::Conv2dOptions(10, 20, 5)),
        torch::nn::Dropout2d(0.5), torch::nn::MaxPool2d(2), torch::nn::ReLU(), torch::nn::Flatten(),
        torch::nn::Linear(320, 50), torch::nn::ReLU(), torch::nn::Dropout(0.5),
        torch::nn::Linear(50, 10), torch::nn::LogSoftmax(1));
    load_initial(model, bench::b4_initial());
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.5));
    mnist(model, opt, 64, true);
  } else if (w.name == "HVP") {
    hvp();
  } else if (w.name == "PINN") {
    pinn();
  } else if (w.name == "B5") {
    b5();
  } else if (w.name == "B6") {
    b6();
  } else {
    std::vector<float> xs, ys;
    bench::b3_data(xs, ys);
    const auto X = torch::from_blob(xs.data(), {20000, 2}),
               Y = torch::from_blob(ys.data(), {20000, 1});
    torch::nn::Sequential model(torch::nn::Linear(2, 8), torch::nn::Tanh(),
                                torch::nn::Linear(8, 1));
    load_initial(model, bench::initial_parameters({2, 8, 1}));
    torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1));
    const double t0 = bench::now();
    for (std::int64_t i = 0; i < 20000; ++i) {
      const auto loss = torch::mse_loss(model->forward(X.narrow(0, i, 1)), Y.narrow(0, i, 1));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    bench::report(bench::now() - t0, 0);
  }
}
