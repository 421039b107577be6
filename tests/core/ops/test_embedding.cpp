// embedding: PyTorch's own outputs and gradients (tests/reference/embedding.json), rows copied
// exactly, repeated indices accumulating, padding_idx (negative too) getting no gradient,
// finite differences, and errors.
#include "../../torch_data.h"
#include "../helpers.h"

TEST_CASE("embedding: torch 1.13's outputs and gradients, with repeats and padding_idx") {
  // The last four add max_norm (the renormalised table is weight_after) and
  // scale_grad_by_freq.
  const auto cases = torch_data::cases("embedding.json");
  CHECK(cases.size() == 7);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& o = c.at("options");
    INFO("case " << i << ": " << o.dump());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    std::optional<std::int64_t> padding;
    if (!o.at("padding_idx").is_null()) padding = o.at("padding_idx").get<std::int64_t>();
    std::optional<double> max_norm;
    if (o.contains("max_norm") && !o.at("max_norm").is_null()) max_norm = o.at("max_norm");
    double norm_type = 2;
    if (o.contains("norm_type"))
      norm_type = o.at("norm_type") == "inf" ? INFINITY : o.at("norm_type").get<double>();
    const bool freq = o.contains("scale_grad_by_freq") && o.at("scale_grad_by_freq").get<bool>();
    CHECK(in[0].dtype() == tg::kInt64);
    torch_data::check_case(c, in, tg::embedding(in[0], in[1], padding, max_norm, norm_type, freq),
                           1e-12);
    if (c.contains("weight_after"))
      check_values(in[1], c.at("weight_after").at("data").get<std::vector<double>>(), 1e-12);
  }
}

TEST_CASE("embedding: rows by hand, accumulated repeats, the padding row, finite differences") {
  tg::Tensor w = leaf({5, 3});
  const tg::Tensor idx =
      tg::from_vector(std::vector<double>{4, 1, 4, 2, 4, 0}, {2, 3}, {.dtype = tg::kInt64});
  const tg::Tensor y = tg::embedding(idx, w, -1);  // row 4 is the padding row
  REQUIRE(y.shape() == tg::Shape{2, 3, 3});
  const std::vector<double> wv = w.to_vector<double>(), yv = y.to_vector<double>();
  const std::vector<int> rows{4, 1, 4, 2, 4, 0};
  for (std::size_t j = 0; j < rows.size(); ++j)
    for (std::size_t d = 0; d < 3; ++d) CHECK(yv[j * 3 + d] == wv[rows[j] * 3 + d]);
  y.sum().backward();
  // Row 0, 1, 2 once each; row 3 never; row 4 (padding) three times but no gradient.
  CHECK(w.grad().to_vector<double>() ==
        std::vector<double>{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
  const tg::Tensor mix = leaf({2, 3, 3}, 9).detach();
  check_gradient([&] { return (tg::embedding(idx, w) * mix).sum(); }, {w});
  // float32 tables copy their rows exactly too.
  const tg::Tensor w32 = w.detach().to(tg::kFloat32);
  CHECK(tg::embedding(idx, w32).to_vector<double>() ==
        tg::embedding(idx, w.detach()).to(tg::kFloat32).to_vector<double>());
}

TEST_CASE("embedding: errors name the index, its position and the table") {
  const tg::Tensor w = tg::zeros({4, 2});
  const tg::Tensor bad = tg::from_vector(std::vector<double>{1, 4}, {2}, {.dtype = tg::kInt64});
  CHECK_THROWS_WITH_AS(tg::embedding(bad, w),
                       "embedding: index 4 at position 1 is out of range for 4 embeddings",
                       tg::ValueError);
  const tg::Tensor neg = tg::from_vector(std::vector<double>{-1}, {1}, {.dtype = tg::kInt64});
  CHECK_THROWS_WITH_AS(tg::embedding(neg, w),
                       "embedding: index -1 at position 0 is out of range for 4 embeddings",
                       tg::ValueError);
  const tg::Tensor ok = tg::from_vector(std::vector<double>{0}, {1}, {.dtype = tg::kInt64});
  CHECK_THROWS_WITH_AS(tg::embedding(ok, w, 4),
                       "embedding: padding_idx 4 is out of range for 4 embeddings", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::embedding(ok, tg::zeros({4})),
                       "embedding: weight must be (num_embeddings, embedding_dim): got [4]",
                       tg::ShapeError);
  CHECK_THROWS_AS(tg::embedding(tg::zeros({1}), w), tg::ValueError);  // float indices
  CHECK_THROWS_WITH_AS(tg::embedding(ok, w, std::nullopt, -1.0),
                       "embedding: max_norm must be finite and >= 0, got -1", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::embedding(ok, w, std::nullopt, 1.0, 0),
                       "embedding: norm_type must be > 0, got 0", tg::ValueError);
  // A lookup that fails leaves the table as it was: nothing is renormalised first.
  const tg::Tensor big = tg::full({4, 2}, 5.0);
  CHECK_THROWS_AS(tg::embedding(bad, big, std::nullopt, 1.0), tg::ValueError);
  CHECK(big.to_vector<double>() == std::vector<double>(8, 5.0));
}
