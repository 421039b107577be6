// One recurrent layer in one direction over a whole padded batch (what nn's RNN, LSTM, GRU and
// their cells run), as torch's _VF.lstm / gru / rnn_tanh compute it for a layer, one tape entry
// whose backward runs through time.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// The recurrence: an Elman RNN with tanh or ReLU, an LSTM (gates i, f, g, o in torch's
/// order), a GRU (gates r, z, n; torch's placement of b_hn inside r * (W_hn h + b_hn)).
enum class RNNMode { Tanh, Relu, LSTM, GRU };

/// How many gate blocks of hidden_size rows the weights of a mode stack: 1, 4 (LSTM), 3 (GRU).
std::int64_t rnn_gate_count(RNNMode mode);

/// A layer's weights in torch's layout, G = rnn_gate_count(mode): w_ih (G*H, I), w_hh (G*H, H),
/// b_ih and b_hh (G*H) or both undefined.
struct RNNWeights {
  Tensor w_ih;  ///< input-to-hidden weights (G*H, I)
  Tensor w_hh;  ///< hidden-to-hidden weights (G*H, H)
  Tensor b_ih;  ///< w_ih's bias (G*H), or undefined (then b_hh is too)
  Tensor b_hh;  ///< w_hh's bias (G*H), or undefined (then b_ih is too)
};

/// What a layer gives back: the output sequence and the final state.
struct RNNLayerResult {
  Tensor output;  ///< (T, B, H): h at every step, zero past a sequence's length
  Tensor h_n;     ///< (B, H): each sequence's h after its own last step
  Tensor c_n;     ///< (B, H): the LSTM's cell state likewise; undefined for the other modes
};

/// Runs one layer over x (T, B, I), time first, from the state h0 (and c0 for an LSTM), each
/// (B, H) or undefined for zeros. lengths (empty, or one per sequence, each in [1, T]) gives a
/// padded batch torch's packed-sequence semantics: sequence b runs for its first lengths[b]
/// steps, its outputs after them are zero and h_n holds its state after its own last step. With
/// reverse the layer runs from the end (a bidirectional layer's second direction), starting at
/// each sequence's own last step. The input projection of all steps is one matrix product; each
/// step then costs one product with w_hh and one fused pass over the gates; the backward pass
/// runs through time the same way. float32 or float64, all operands of one dtype.
RNNLayerResult rnn_layer(RNNMode mode, const Tensor& x, const Tensor& h0, const Tensor& c0,
                         const RNNWeights& weights, const std::vector<std::int64_t>& lengths = {},
                         bool reverse = false);

}  // namespace tapegrad
