// What the Transformer's encoder and decoder layers share: the options check and the
// feed-forward block.
#pragma once
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/dropout.h"
#include "tapegrad/nn/linear.h"
#include "tapegrad/nn/transformer.h"

namespace tapegrad::nn::detail {

// ValueError naming the layer for a width MultiheadAttention and Linear would not name as
// clearly.
inline void check_layer_options(const char* layer, const TransformerEncoderLayerOptions& o) {
  if (o.dim_feedforward < 1)
    throw ValueError(msg(layer, ": dim_feedforward must be positive: got ", o.dim_feedforward));
}

// linear2(dropout(act(linear1(x)))): the block before its output dropout.
inline Tensor feed_forward(Linear& linear1, Dropout& dropout, Linear& linear2,
                           TransformerActivation act, const Tensor& x) {
  const Tensor h = linear1(x);
  return linear2(dropout(act == TransformerActivation::GELU ? gelu(h) : relu(h)));
}

}  // namespace tapegrad::nn::detail
