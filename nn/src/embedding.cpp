// Embedding layer: torch's initialisation (normal, padding row zero) and from_pretrained.
#include "tapegrad/nn/embedding.h"

#include <algorithm>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/init.h"

namespace tapegrad::nn {

namespace {
std::optional<std::int64_t> normalized_padding(std::optional<std::int64_t> p, std::int64_t n) {
  if (!p) return p;
  if (*p < -n || *p >= n)
    throw ValueError(msg("Embedding: padding_idx ", *p, " is out of range for ", n, " embeddings"));
  return *p < 0 ? *p + n : *p;
}
}  // namespace

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
                     std::optional<std::int64_t> padding_idx, Generator* gen)
    : num_(num_embeddings), dim_(embedding_dim) {
  if (num_embeddings < 1 || embedding_dim < 1)
    throw ValueError(msg("Embedding: num_embeddings and embedding_dim must be positive: got ",
                         num_embeddings, ", ", embedding_dim));
  padding_idx_ = normalized_padding(padding_idx, num_);
  Tensor w = empty({num_, dim_});
  init::normal_(w, 0, 1, gen);
  if (padding_idx_) std::fill_n(w.data<float>() + *padding_idx_ * dim_, dim_, 0.0f);
  weight_ = register_parameter("weight", w);
}

Embedding::Embedding(const Tensor& weight, bool requires_grad,
                     std::optional<std::int64_t> padding_idx)
    : num_(weight.size(0)), dim_(weight.size(1)) {
  padding_idx_ = normalized_padding(padding_idx, num_);
  weight_ = register_parameter("weight", weight.detach().clone(), requires_grad);
}

Embedding Embedding::from_pretrained(const Tensor& embeddings, bool freeze,
                                     std::optional<std::int64_t> padding_idx) {
  if (!embeddings.defined() || embeddings.dim() != 2)
    throw ShapeError(msg("Embedding::from_pretrained: embeddings must be 2-D: got ",
                         embeddings.defined() ? shape_str(embeddings.shape()) : "undefined"));
  return Embedding(embeddings, !freeze, padding_idx);
}

Tensor Embedding::forward(const Tensor& indices) {
  return embedding(indices, weight_, padding_idx_);
}

std::string Embedding::extra_repr() const {
  std::string r = msg(num_, ", ", dim_);
  if (padding_idx_) r += msg(", padding_idx=", *padding_idx_);
  return r;
}

}  // namespace tapegrad::nn
