// Scaled dot-product attention, fused: softmax(q k^T * scale + mask) v with the scale, the mask
// and the softmax in one pass over the scores, forward and backward, as one tape entry.
#pragma once
#include <cstdint>
#include <optional>

#include "tapegrad/core/random.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// What scaled_dot_product_attention does beyond the product.
struct AttentionOptions {
  /// Added to the scores before the softmax: float, (L, S) for every batch or the batch dims
  /// of q then (L, S); -inf shuts a key out (a row shut out entirely gives NaN, as torch 1.13's
  /// softmax does). Constant: it gets no gradient (ValueError if it requires one).
  Tensor attn_mask;
  /// Each query sees keys up to its own position only (key j > query i shut out), on top of
  /// attn_mask.
  bool is_causal = false;
  /// Dropout on the attention weights (after the softmax), scaled by 1/(1-p); 0: none.
  double dropout_p = 0;
  /// The scores' scale; 1/sqrt(E) (E = q's last dim) when not given.
  std::optional<double> scale;
  /// Also return the attention weights (after dropout), differentiable.
  bool need_weights = false;
  Generator* gen = nullptr;  ///< dropout's draws; the global generator when null
};

/// The attention's output and, when asked, its weights.
struct AttentionResult {
  Tensor output;   ///< (..., L, Ev)
  Tensor weights;  ///< (..., L, S) when need_weights, else undefined
};

/// softmax(q k^T * scale + attn_mask) v over q (..., L, E), k (..., S, E), v (..., S, Ev) with
/// the same batch dims (none, or any number), as torch's scaled_dot_product_attention with an
/// additive float mask. k is read transposed by the GEMM (no copy); each batch element's products
/// and row pass run on one thread, the batch split across threads. float32 or float64.
AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionOptions& options = {});

/// How multi_head_attention finds the heads: num_heads of them side by side in the last dim,
/// the sequence first ((L, N, H * E), as MultiheadAttention's projections give it) or the
/// batch first ((N, L, H * E)).
struct HeadsLayout {
  std::int64_t num_heads = 1;  ///< H: the last dim holds H blocks of E features
  bool batch_first = false;    ///< (N, L, H * E) instead of (L, N, H * E)
};

/// scaled_dot_product_attention of every (batch entry, head) pair, read where the heads lie:
/// q (L, N, H * E), k (S, N, H * E), v (S, N, H * Ev), or batch first (N, L, H * E) and so
/// on. The output has q's layout with H * Ev features (head h's in block h), the weights are
/// (N, H, L, S), and attn_mask is (L, S) or (N, H, L, S). The same numbers as splitting the
/// heads into (N * H, L, E) and back, without the four copies that takes each way.
AttentionResult multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                     const HeadsLayout& layout,
                                     const AttentionOptions& options = {});

}  // namespace tapegrad
