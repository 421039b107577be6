// tapegrad's side of the benchmark: the workloads as a user writes them with the library.
#include <limits>
#include <numbers>
#include <tapegrad/tapegrad.hpp>

#include "common.h"

namespace tg = tapegrad;
namespace nn = tg::nn;

namespace {
// In evaluation mode (dropout off), bench::kEvalBatch images at a time.
double accuracy(nn::Module& m, const tg::data::MNIST& test) {
  tg::NoGradGuard no_grad;
  m.eval();
  const tg::Dtype dtype = m.parameters().front().dtype();
  std::int64_t correct = 0;
  for (std::int64_t b = 0; b < test.size(); b += bench::kEvalBatch) {
    const std::int64_t n = std::min(bench::kEvalBatch, test.size() - b);
    correct +=
        static_cast<std::int64_t>(tg::eq(tg::argmax(m(test.inputs().narrow(0, b, n).to(dtype)), 1),
                                         test.targets().narrow(0, b, n))
                                      .sum()
                                      .item());
  }
  m.train();
  return static_cast<double>(correct) / static_cast<double>(test.size());
}

// The shared starting values (bench::initial_layers), copied into the layers.
void load_initial(nn::Module& model, const std::vector<bench::LayerInit>& init) {
  const std::vector<tg::Tensor> params = model.parameters();  // w1, b1, w2, b2, ...
  tg::NoGradGuard no_grad;
  for (std::size_t l = 0; l < init.size(); ++l) {
    params[2 * l].copy_(tg::from_vector(init[l].w, params[2 * l].shape()));
    params[2 * l + 1].copy_(tg::from_vector(init[l].b, params[2 * l + 1].shape()));
  }
}

template <typename Opt>
void mnist(nn::Sequential& model, Opt& opt, std::int64_t batch, bool nll = false,
           tg::Dtype dtype = tg::kFloat32) {
  // The library's own loader: pixels / 255 as float32, like bench::load, without a second copy
  // (float64 converts the whole set once, before the clock starts).
  const tg::data::MNIST train(bench::data_dir(), tg::data::Split::Train);
  const tg::data::MNIST test(bench::data_dir(), tg::data::Split::Test);
  const tg::Tensor X = train.inputs().to(dtype), &Y = train.targets();
  const std::int64_t n = train.size();
  const auto order = bench::batch_order(n);
  const double t0 = bench::now();
  for (std::int64_t b = 0; b + batch <= n; b += batch) {
    const tg::Tensor idx =
        tg::from_vector(std::vector<std::int64_t>(order.begin() + b, order.begin() + b + batch));
    const tg::Tensor out = model(X.index_select(0, idx)), y = Y.index_select(0, idx);
    const tg::Tensor loss =
        nll ? nn::functional::nll_loss(out, y) : nn::functional::cross_entropy(out, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  const double secs = bench::now() - t0;
  bench::report(secs, accuracy(model, test));
}

// B5: a character-level LSTM language model, as a user writes it with the library's modules.
void b5() {
  using namespace bench;
  const Text text = b5_text();
  const std::int64_t V = text.vocab;
  nn::Embedding embed(V, kB5Embed);
  nn::LSTM lstm(kB5Embed, kB5Hidden, {.num_layers = kB5Layers});
  nn::Linear head(kB5Hidden, V);
  std::vector<tg::Tensor> params = embed.parameters();
  for (const nn::Module* m : {static_cast<nn::Module*>(&lstm), static_cast<nn::Module*>(&head)})
    for (const tg::Tensor& p : m->parameters()) params.push_back(p);
  {
    const auto init = b5_initial(text.vocab);
    tg::NoGradGuard no_grad;
    for (std::size_t k = 0; k < params.size(); ++k)
      params[k].copy_(tg::from_vector(init[k], params[k].shape()));
  }
  tg::optim::Adam opt(params, {.lr = 2e-3});
  const auto order = batch_order((static_cast<std::int64_t>(text.ids.size()) - 1) / kB5Seq);
  const std::int64_t steps = b5_steps(text);
  std::vector<std::int64_t> x, y;
  TailMean recent{steps};
  const double t0 = now();
  for (std::int64_t k = 0; k < steps; ++k) {
    text_batch(text, order, k, kB5Seq, kB5Batch, x, y);
    const tg::Tensor logits = head(lstm(embed(tg::from_vector(x, {kB5Seq, kB5Batch}))));
    const tg::Tensor loss =
        nn::functional::cross_entropy(logits.reshape({-1, V}), tg::from_vector(y));
    opt.zero_grad();
    loss.backward();
    opt.step();
    recent.add(k, loss.item());
  }
  report_loss(now() - t0, recent.mean);
}

// B6: a small GPT-style character model, as a user writes it with the library's modules.
void b6() {
  using namespace bench;
  const Text text = b5_text();
  const std::int64_t V = text.vocab;
  nn::Embedding tok(V, kB6Dim), pos(kB6Seq, kB6Dim);
  nn::TransformerEncoderLayerOptions lo;
  lo.dim_feedforward = kB6Ff;
  lo.dropout = 0;
  lo.activation = nn::TransformerActivation::GELU;
  nn::TransformerEncoder encoder(nn::TransformerEncoderLayer(kB6Dim, kB6Heads, lo), kB6Layers,
                                 std::make_shared<nn::LayerNorm>(tg::Shape{kB6Dim}));
  nn::Linear head(kB6Dim, V);
  std::vector<tg::Tensor> params;
  auto load = [&](const std::string& prefix, nn::Module& m) {
    tg::NoGradGuard no_grad;
    for (const auto& [name, p] : m.named_parameters()) {
      p.copy_(tg::from_vector(b6_value(prefix + name, p.shape()), p.shape()));
      params.push_back(p);
    }
  };
  load("tok.", tok);
  load("pos.", pos);
  load("encoder.", encoder);
  load("head.", head);
  tg::optim::Adam opt(params, {.lr = 1e-3});
  const tg::Tensor causal =
      tg::triu(tg::full({kB6Seq, kB6Seq}, -std::numeric_limits<double>::infinity()), 1);
  const tg::Tensor positions = tg::arange(std::int64_t{kB6Seq}, {.dtype = tg::kInt64});
  const auto order = batch_order((static_cast<std::int64_t>(text.ids.size()) - 1) / kB6Seq);
  const std::int64_t steps = b6_steps(text);
  std::vector<std::int64_t> x, y;
  TailMean recent{steps};
  const double t0 = now();
  for (std::int64_t k = 0; k < steps; ++k) {
    text_batch(text, order, k, kB6Seq, kB6Batch, x, y);
    const tg::Tensor h = tok(tg::from_vector(x, {kB6Seq, kB6Batch})) + pos(positions).unsqueeze(1);
    const tg::Tensor logits = head(encoder(h, causal));
    const tg::Tensor loss =
        nn::functional::cross_entropy(logits.reshape({-1, V}), tg::from_vector(y));
    opt.zero_grad();
    loss.backward();
    opt.step();
    recent.add(k, loss.item());
  }
  report_loss(now() - t0, recent.mean);
}
// A Hessian-vector product of B1's loss with respect to all its parameters, by double
// backward, against one first-order gradient.
void hvp() {
  nn::Sequential model(nn::Linear(784, 128), nn::Sigmoid(), nn::Linear(128, 10));
  load_initial(model, bench::initial_parameters({784, 128, 10}));
  std::vector<float> xs;
  std::vector<std::int64_t> ys;
  bench::hvp_batch(xs, ys);
  const tg::Tensor x = tg::from_vector(xs, {64, 784}), y = tg::from_vector(ys, {64});
  const std::vector<tg::Tensor> params = model.parameters();
  std::vector<tg::Tensor> v;
  for (const tg::Tensor& p : params) v.push_back(tg::ones_like(p) * 0.01);
  auto loss = [&] { return nn::functional::cross_entropy(model(x), y); };
  const double first = bench::us_per_call([&] { tg::grad({loss()}, params); });
  const double hv = bench::us_per_call([&] {
    const std::vector<tg::Tensor> g = tg::grad({loss()}, params, {}, {.create_graph = true});
    tg::Tensor dot = tg::sum(g[0] * v[0]);
    for (std::size_t i = 1; i < g.size(); ++i) dot = dot + tg::sum(g[i] * v[i]);
    tg::grad({dot}, params);
  });
  bench::report_hvp(first, hv);
}
// PINN: u'' = -pi^2 sin(pi x) on [0, 1] with u(0) = u(1) = 0, its loss through two
// create_graph gradients of the network with respect to its input (examples/pinn.cpp).
void pinn() {
  nn::Sequential u(nn::Linear(1, 32), nn::Tanh(), nn::Linear(32, 32), nn::Tanh(),
                   nn::Linear(32, 1));
  load_initial(u, bench::initial_parameters({1, 32, 32, 1}));
  u.to(tg::kFloat64);
  const tg::Tensor x = tg::from_vector(bench::pinn_points(64), {64, 1}).requires_grad_(true);
  const tg::Tensor ends = tg::from_vector(bench::pinn_points(2), {2, 1});
  const double pi = std::numbers::pi;
  tg::optim::Adam opt(u.parameters(), {.lr = 1e-3});
  double last = 0;
  const double t0 = bench::now();
  for (int step = 0; step < bench::kPinnSteps; ++step) {
    const tg::Tensor y = u(x);
    const tg::Tensor du = tg::grad({y.sum()}, {x}, {}, {.create_graph = true})[0];
    const tg::Tensor d2u = tg::grad({du.sum()}, {x}, {}, {.create_graph = true})[0];
    const tg::Tensor loss =
        tg::mean(tg::square(d2u + pi * pi * tg::sin(x * pi))) + tg::mean(tg::square(u(ends)));
    opt.zero_grad();
    loss.backward();
    opt.step();
    last = loss.item();
  }
  bench::report_loss(bench::now() - t0, last);
}
}  // namespace

int main(int argc, char** argv) {
  const bench::Workload w = bench::parse_args(argc, argv);
  if (w.threads > 0) tg::set_num_threads(w.threads);
  tg::manual_seed(0);
  if (w.name == "B1" || w.name == "B1f64") {  // B1f64: B1 in float64 throughout
    const tg::Dtype dtype = w.name == "B1" ? tg::kFloat32 : tg::kFloat64;
    nn::Sequential model(nn::Linear(784, 128), nn::Sigmoid(), nn::Linear(128, 10));
    load_initial(model, bench::initial_parameters({784, 128, 10}));
    model.to(dtype);
    tg::optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.9});
    mnist(model, opt, 64, false, dtype);
  } else if (w.name == "B2") {
    nn::Sequential model(nn::Linear(784, 1024), nn::ReLU(), nn::Linear(1024, 1024), nn::ReLU(),
                         nn::Linear(1024, 10));
    load_initial(model, bench::initial_parameters({784, 1024, 1024, 10}));
    tg::optim::Adam opt(model.parameters(), {.lr = 1e-3});
    mnist(model, opt, 256);
  } else if (w.name == "B4") {
    nn::Sequential model(nn::Unflatten(1, {1, 28, 28}), nn::Conv2d(1, 10, 5),
                         nn::MaxPool2d({.kernel_size = 2}), nn::ReLU(), nn::Conv2d(10, 20, 5),
                         nn::Dropout2d(0.5), nn::MaxPool2d({.kernel_size = 2}), nn::ReLU(),
                         nn::Flatten(), nn::Linear(320, 50), nn::ReLU(), nn::Dropout(0.5),
                         nn::Linear(50, 10), nn::LogSoftmax(1));
    load_initial(model, bench::b4_initial());
    tg::optim::SGD opt(model.parameters(), {.lr = 0.01, .momentum = 0.5});
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
    const tg::Tensor X = tg::from_vector(xs, {20000, 2}), Y = tg::from_vector(ys, {20000, 1});
    nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1));
    load_initial(model, bench::initial_parameters({2, 8, 1}));
    tg::optim::SGD opt(model.parameters(), {.lr = 0.1});
    // Single samples, as a user would slice them; the slicing is part of the per-step cost.
    const double t0 = bench::now();
    for (std::int64_t i = 0; i < 20000; ++i) {
      const tg::Tensor loss = nn::functional::mse_loss(model(X.narrow(0, i, 1)), Y.narrow(0, i, 1));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    bench::report(bench::now() - t0, 0);
  }
}
