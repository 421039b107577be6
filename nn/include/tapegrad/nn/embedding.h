// A lookup table of learned vectors (PyTorch's nn.Embedding): weight (num_embeddings,
// embedding_dim), rows picked by int64 indices.
#pragma once
#include <optional>

#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// nn.Embedding's options beyond its sizes (see tapegrad::embedding for what each does).
struct EmbeddingOptions {
  std::optional<std::int64_t> padding_idx;  ///< the row that starts and stays zero
  std::optional<double> max_norm;   ///< rows looked up are first renormalised to at most this
  double norm_type = 2;             ///< the p of max_norm's p-norm
  bool scale_grad_by_freq = false;  ///< divide a row's gradient by its index's count in a batch
};

/// y = embedding(indices, weight, padding_idx): indices' shape plus (embedding_dim). Initialised
/// as PyTorch does: weight normal(0, 1) from gen or the global one, the padding_idx row zero
/// (and it gets no gradient, so it stays zero).
class Embedding : public Module {
 public:
  /// A table of num_embeddings rows of embedding_dim (both positive, else ValueError); padding_idx
  /// (negative counts from num_embeddings) names the row that starts and stays zero.
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
            std::optional<std::int64_t> padding_idx = std::nullopt, Generator* gen = nullptr);
  /// The same with every option of torch's nn.Embedding.
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim, const EmbeddingOptions& opts,
            Generator* gen = nullptr);
  /// A table from given rows (torch's Embedding.from_pretrained); freeze: not a trainable
  /// parameter (requires_grad false, still in parameters() and the state dict, as torch's).
  static Embedding from_pretrained(const Tensor& embeddings, bool freeze = true,
                                   std::optional<std::int64_t> padding_idx = std::nullopt);
  /// The same with every option of torch's from_pretrained.
  static Embedding from_pretrained(const Tensor& embeddings, bool freeze,
                                   const EmbeddingOptions& opts);
  Tensor forward(const Tensor& indices) override;
  std::string name() const override { return "Embedding"; }
  std::string extra_repr() const override;
  /// The table (num_embeddings, embedding_dim).
  const Tensor& weight() const { return weight_; }
  /// The padding row, in [0, num_embeddings), if one was given.
  std::optional<std::int64_t> padding_idx() const { return opts_.padding_idx; }
  /// The options, padding_idx normalised to [0, num_embeddings).
  const EmbeddingOptions& options() const { return opts_; }

 private:
  Embedding(const Tensor& weight, bool requires_grad, const EmbeddingOptions& opts);
  std::int64_t num_, dim_;
  EmbeddingOptions opts_;
  Tensor weight_;
};

}  // namespace tapegrad::nn
