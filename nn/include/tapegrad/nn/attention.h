// Multi-head attention, laid out as PyTorch's nn.MultiheadAttention (in_proj_weight,
// in_proj_bias, out_proj), over core's fused scaled_dot_product_attention.
#pragma once
#include <cstdint>
#include <memory>

#include "tapegrad/core/random.h"
#include "tapegrad/nn/linear.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// torch's constructor arguments of MultiheadAttention beyond embed_dim and num_heads (keys and
/// values of embed_dim features; torch's kdim, vdim, add_bias_kv and add_zero_attn are not
/// offered).
struct MultiheadAttentionOptions {
  double dropout = 0;        ///< dropout on the attention weights, in training
  bool bias = true;          ///< false leaves out in_proj_bias and out_proj's bias
  bool batch_first = false;  ///< inputs and output are (N, L, E) instead of (L, N, E)
};

/// What one call takes beyond query, key and value (torch's forward arguments). A mask is
/// boolean-like when int64 (nonzero shuts a key out, as torch's bool masks) or additive when
/// float (added to the scores; -inf shuts a key out).
struct AttentionCall {
  Tensor key_padding_mask;  ///< (N, S), or (S) unbatched: keys each batch element ignores
  /// (L, S) for every batch element and head, or (N * num_heads, L, S).
  Tensor attn_mask;
  bool need_weights = true;          ///< also return the attention weights
  bool average_attn_weights = true;  ///< the weights averaged over heads, else per head
  bool is_causal = false;            ///< each query sees keys up to its own position only
};

/// What MultiheadAttention returns: torch's (attn_output, attn_output_weights).
struct AttentionOutput {
  Tensor output;   ///< (L, N, E), (N, L, E) with batch_first, or (L, E) unbatched
  Tensor weights;  ///< (N, L, S), or (N, num_heads, L, S) unaveraged; undefined unless asked
};

/// softmax(Q K^T / sqrt(E / num_heads) + mask) V per head, heads concatenated, then out_proj;
/// Q, K, V are query, key, value through in_proj_weight's three blocks. Initialised as torch's:
/// in_proj_weight xavier_uniform_, out_proj.weight as a Linear's, both biases zero.
class MultiheadAttention : public Module {
 public:
  /// Attention over embed_dim features in num_heads heads (num_heads divides embed_dim, else
  /// ValueError).
  MultiheadAttention(std::int64_t embed_dim, std::int64_t num_heads,
                     const MultiheadAttentionOptions& opts = {}, Generator* gen = nullptr);
  /// Self-attention's output alone (query = key = value = x), without masks: fits in a
  /// Sequential.
  Tensor forward(const Tensor& x) override;
  /// Attention of query (L, N, E) over key and value (S, N, E) (batch_first: N first; or
  /// unbatched (L, E), (S, E)).
  AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const AttentionCall& call = {});
  using Module::operator();
  /// forward(query, key, value, call).
  AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                             const AttentionCall& call = {}) {
    return forward(query, key, value, call);
  }
  std::string name() const override { return "MultiheadAttention"; }
  std::string extra_repr() const override;
  /// The stacked query, key and value projections (3 * embed_dim, embed_dim).
  const Tensor& in_proj_weight() const { return in_proj_weight_; }
  /// Their biases (3 * embed_dim); undefined without bias.
  const Tensor& in_proj_bias() const { return in_proj_bias_; }
  /// The output projection.
  Linear& out_proj() { return *out_proj_; }

 private:
  std::int64_t embed_dim_, num_heads_;
  MultiheadAttentionOptions opts_;
  Tensor in_proj_weight_, in_proj_bias_;
  std::shared_ptr<Linear> out_proj_;
};

}  // namespace tapegrad::nn
