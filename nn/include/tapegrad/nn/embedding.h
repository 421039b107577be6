// A lookup table of learned vectors (PyTorch's nn.Embedding): weight (num_embeddings,
// embedding_dim), rows picked by int64 indices.
#pragma once
#include <optional>

#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// y = embedding(indices, weight, padding_idx): indices' shape plus (embedding_dim). Initialised
/// as PyTorch does: weight normal(0, 1) from gen or the global one, the padding_idx row zero
/// (and it gets no gradient, so it stays zero).
class Embedding : public Module {
 public:
  /// A table of num_embeddings rows of embedding_dim (both positive, else ValueError); padding_idx
  /// (negative counts from num_embeddings) names the row that starts and stays zero.
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
            std::optional<std::int64_t> padding_idx = std::nullopt, Generator* gen = nullptr);
  /// A table from given rows (torch's Embedding.from_pretrained); freeze: not a trainable
  /// parameter (requires_grad false, still in parameters() and the state dict, as torch's).
  static Embedding from_pretrained(const Tensor& embeddings, bool freeze = true,
                                   std::optional<std::int64_t> padding_idx = std::nullopt);
  Tensor forward(const Tensor& indices) override;
  std::string name() const override { return "Embedding"; }
  std::string extra_repr() const override;
  /// The table (num_embeddings, embedding_dim).
  const Tensor& weight() const { return weight_; }
  /// The padding row, in [0, num_embeddings), if one was given.
  std::optional<std::int64_t> padding_idx() const { return padding_idx_; }

 private:
  Embedding(const Tensor& weight, bool requires_grad, std::optional<std::int64_t> padding_idx);
  std::int64_t num_, dim_;
  std::optional<std::int64_t> padding_idx_;  ///< normalised to [0, num_embeddings)
  Tensor weight_;
};

}  // namespace tapegrad::nn
