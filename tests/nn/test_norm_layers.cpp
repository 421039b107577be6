// LayerNorm, GroupNorm and Embedding: parameters as torch's (names, shapes, initial values),
// forwards equal to core's ops, the same in training and evaluation, Embedding's padding row
// kept at zero through training, from_pretrained, what they print, and their errors.
#include <sstream>

#include "../core/helpers.h"

namespace nn = tg::nn;

namespace {
std::string repr(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}
}  // namespace

TEST_CASE("LayerNorm and GroupNorm: weight 1 and bias 0, forward through the ops, no buffers") {
  nn::LayerNorm ln({3, 4});
  REQUIRE(ln.named_parameters().size() == 2);
  CHECK(ln.named_parameters()[0].first == "weight");
  CHECK(ln.weight().shape() == tg::Shape{3, 4});
  CHECK(ln.weight().to_vector<double>() == std::vector<double>(12, 1.0));
  CHECK(ln.bias().to_vector<double>() == std::vector<double>(12, 0.0));
  CHECK(ln.named_buffers().empty());
  tg::Generator gen(5);
  const tg::Tensor x = tg::randn({2, 3, 4}, {}, &gen);
  CHECK(ln(x).to_vector<float>() ==
        tg::layer_norm(x, {3, 4}, ln.weight(), ln.bias()).to_vector<float>());
  ln.eval();  // per-sample statistics: evaluation computes the same
  CHECK(ln(x).to_vector<float>() ==
        tg::layer_norm(x, {3, 4}, ln.weight(), ln.bias()).to_vector<float>());
  CHECK(repr(ln) == "LayerNorm((3, 4), eps=1e-05, elementwise_affine=true)");
  nn::LayerNorm plain({4}, 1e-3, false);
  CHECK(plain.parameters().empty());
  CHECK(repr(plain) == "LayerNorm((4,), eps=0.001, elementwise_affine=false)");

  nn::GroupNorm gn(2, 6);
  CHECK(gn.weight().shape() == tg::Shape{6});
  CHECK(gn.state_dict().size() == 2);
  const tg::Tensor img = tg::randn({2, 6, 3, 3}, {}, &gen);
  CHECK(gn(img).to_vector<float>() ==
        tg::group_norm(img, 2, gn.weight(), gn.bias()).to_vector<float>());
  CHECK(repr(gn) == "GroupNorm(2, 6, eps=1e-05, affine=true)");
  CHECK_THROWS_WITH_AS(gn(tg::zeros({2, 4, 3})),
                       "GroupNorm: expected 6 channels in dim 1, got input [2, 4, 3]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(nn::GroupNorm(4, 6),
                       "GroupNorm: num_groups must divide num_channels: got 4 groups of 6 channels",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::LayerNorm({}),
                       "LayerNorm: normalized_shape must hold at least one dim: got []",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(nn::LayerNorm({3}, -1), "LayerNorm: eps must be > 0, got -1",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(
      ln(tg::zeros({2, 4, 3})),
      "layer_norm: normalized_shape [3, 4] must be the last dims of the input: got "
      "input [2, 4, 3]",
      tg::ShapeError);
}

TEST_CASE("Embedding: N(0, 1) rows, the padding row zero and kept zero by training") {
  tg::Generator gen(11);
  nn::Embedding emb(1000, 8, -1, &gen);
  CHECK(emb.padding_idx() == 999);
  CHECK(emb.weight().shape() == tg::Shape{1000, 8});
  const std::vector<double> w = emb.weight().to_vector<double>();
  double s = 0, q = 0;
  for (std::size_t i = 0; i < 999 * 8; ++i) s += w[i], q += w[i] * w[i];
  CHECK(std::abs(s / (999 * 8)) < 0.05);      // mean 0
  CHECK(std::abs(q / (999 * 8) - 1) < 0.05);  // variance 1
  CHECK(std::vector<double>(w.end() - 8, w.end()) == std::vector<double>(8, 0.0));
  const tg::Tensor idx =
      tg::from_vector(std::vector<double>{999, 3, 999, 3}, {2, 2}, {.dtype = tg::kInt64});
  tg::optim::SGD opt(emb.parameters(), {.lr = 0.5});
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    tg::pow(emb(idx), 2).sum().backward();
    opt.step();
  }
  const std::vector<double> after = emb.weight().to_vector<double>();
  CHECK(std::vector<double>(after.end() - 8, after.end()) == std::vector<double>(8, 0.0));
  CHECK(after[3 * 8] != w[3 * 8]);  // row 3 trained
  CHECK(after[4 * 8] == w[4 * 8]);  // row 4 never looked up
  CHECK(repr(emb) == "Embedding(1000, 8, padding_idx=999)");
  CHECK_THROWS_WITH_AS(nn::Embedding(4, 2, 4),
                       "Embedding: padding_idx 4 is out of range for 4 embeddings", tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::Embedding(0, 2),
                       "Embedding: num_embeddings and embedding_dim must be positive: got 0, 2",
                       tg::ValueError);
}

TEST_CASE("Embedding: max_norm renormalises the rows looked up, options in its repr") {
  nn::EmbeddingOptions opts;
  opts.max_norm = 1.0;
  opts.scale_grad_by_freq = true;
  nn::Embedding emb(6, 3, opts);
  const tg::Tensor idx = tg::from_vector(std::vector<double>{2, 2, 5}, {3}, {.dtype = tg::kInt64});
  const std::vector<double> before = emb.weight().to_vector<double>();
  emb.forward(idx).sum().backward();
  const std::vector<double> after = emb.weight().to_vector<double>();
  for (int row : {2, 5}) {
    double norm = 0;
    for (int d = 0; d < 3; ++d) norm += after[row * 3 + d] * after[row * 3 + d];
    CHECK(std::sqrt(norm) <= 1.0);
  }
  for (int d = 0; d < 3; ++d) CHECK(after[d] == before[d]);  // row 0 never looked up
  // Row 2 appears twice: its gradient is divided by 2.
  check_values(emb.weight().grad(), {0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1});
  CHECK(repr(emb) == "Embedding(6, 3, max_norm=1, scale_grad_by_freq=True)");
}

TEST_CASE("Embedding::from_pretrained copies the table, frozen or trainable") {
  const tg::Tensor table =
      tg::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}, {.dtype = tg::kFloat64});
  nn::Embedding frozen = nn::Embedding::from_pretrained(table);
  CHECK_FALSE(frozen.weight().requires_grad());
  CHECK(frozen.state_dict().size() == 1);
  const tg::Tensor idx = tg::from_vector(std::vector<double>{2, 0}, {2}, {.dtype = tg::kInt64});
  CHECK(frozen(idx).to_vector<double>() == std::vector<double>{5, 6, 1, 2});
  table.fill_(0);  // a copy: the source can change
  CHECK(frozen(idx).to_vector<double>() == std::vector<double>{5, 6, 1, 2});
  nn::Embedding trainable = nn::Embedding::from_pretrained(frozen.weight(), false, 0);
  CHECK(trainable.weight().requires_grad());
  CHECK(trainable.padding_idx() == 0);
  CHECK_THROWS_WITH_AS(nn::Embedding::from_pretrained(tg::zeros({3})),
                       "Embedding::from_pretrained: embeddings must be 2-D: got [3]",
                       tg::ShapeError);
}
