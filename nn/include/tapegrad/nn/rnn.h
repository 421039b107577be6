// Recurrent layers over whole sequences, laid out as PyTorch's nn.RNN / nn.LSTM / nn.GRU
// (parameter names, shapes, gate order and initialisation), so a torch state dict loads unchanged.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/ops/rnn.h"
#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// An Elman RNN's nonlinearity (torch's nonlinearity='tanh' or 'relu').
enum class Nonlinearity { Tanh, ReLU };

/// torch's constructor arguments of RNN, LSTM and GRU beyond the two sizes.
struct RNNOptions {
  std::int64_t num_layers = 1;  ///< layers stacked, each reading the one below's outputs
  bool bias = true;             ///< false leaves out every b_ih and b_hh
  bool batch_first = false;     ///< x and the output are (B, T, .) instead of (T, B, .)
  double dropout = 0;           ///< dropout on each layer's output but the last's, in training
  bool bidirectional = false;   ///< a second direction per layer, run from each sequence's end
  Nonlinearity nonlinearity = Nonlinearity::Tanh;  ///< RNN's only: LSTM and GRU reject ReLU
};

/// A state to start from: h (num_layers * directions, B, H), and c likewise for an LSTM; either
/// undefined for zeros. Without a batch dim when x has none: (num_layers * directions, H).
struct RNNState {
  Tensor h;  ///< the hidden state
  Tensor c;  ///< the LSTM's cell state
};

/// What a sequence module returns: torch's (output, h_n) or (output, (h_n, c_n)).
struct RNNResult {
  Tensor output;  ///< (T, B, directions * H), (B, T, ...) with batch_first, or (T, ...) unbatched
  Tensor h_n;     ///< (num_layers * directions, B, H): each layer and direction's last h
  Tensor c_n;     ///< the LSTM's last c likewise; undefined for RNN and GRU
};

/// What RNN, LSTM and GRU share: the stack of layers and directions over rnn_layer, and the
/// parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (with a _reverse
/// suffix for the second direction), G*H rows each (G = 1, 4 or 3 gate blocks in torch's order),
/// initialised as torch does: every parameter uniform in +-1/sqrt(H), from gen or the global one.
class RNNBase : public Module {
 public:
  /// The output sequence alone (so the module fits in a Sequential), from a zero state: x is
  /// (T, B, I), (B, T, I) with batch_first, or (T, I) for one sequence.
  Tensor forward(const Tensor& x) override;
  /// The output and the final state from a given state (undefined parts start at zero). lengths
  /// (one per sequence, each in [1, T], any order) makes x a padded batch with torch's
  /// packed-sequence semantics (pack_padded_sequence with enforce_sorted=False, then
  /// pad_packed_sequence with total_length=T): outputs past a sequence's length are zero, h_n
  /// and c_n hold each sequence's state after its own last step, and the reverse direction starts
  /// there.
  RNNResult forward(const Tensor& x, const RNNState& state,
                    const std::vector<std::int64_t>& lengths = {});
  using Module::operator();
  /// forward(x, state, lengths).
  RNNResult operator()(const Tensor& x, const RNNState& state,
                       const std::vector<std::int64_t>& lengths = {}) {
    return forward(x, state, lengths);
  }
  std::string extra_repr() const override;
  /// Features of each input step.
  std::int64_t input_size() const { return input_size_; }
  /// Features of the hidden state.
  std::int64_t hidden_size() const { return hidden_size_; }
  /// The options the module was built with.
  const RNNOptions& options() const { return opts_; }
  /// Layer k's weights for one direction (reverse: the second), as rnn_layer takes them.
  RNNWeights weights(std::int64_t layer, bool reverse = false) const;

 protected:
  /// The stack for mode; `what` names the module in errors. ValueError for non-positive sizes
  /// or layers, dropout outside [0, 1], or a ReLU nonlinearity on an LSTM or GRU.
  RNNBase(RNNMode mode, const char* what, std::int64_t input_size, std::int64_t hidden_size,
          const RNNOptions& opts, Generator* gen);

 private:
  RNNMode mode_;
  const char* what_;
  std::int64_t input_size_, hidden_size_;
  RNNOptions opts_;
  std::vector<RNNWeights> weights_;  // layer-major: layer k's directions at 2k, 2k + 1
};

/// An Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), or ReLU instead of tanh.
class RNN : public RNNBase {
 public:
  /// A stack from input_size to hidden_size features (see RNNOptions).
  RNN(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& opts = {},
      Generator* gen = nullptr);
  std::string name() const override { return "RNN"; }
};

/// A long short-term memory network, torch's gates: i, f, o sigmoid and g tanh of
/// W_ih x_t + b_ih + W_hh h_(t-1) + b_hh in the order i, f, g, o; c_t = f c_(t-1) + i g;
/// h_t = o tanh(c_t).
class LSTM : public RNNBase {
 public:
  /// A stack from input_size to hidden_size features (see RNNOptions).
  LSTM(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& opts = {},
       Generator* gen = nullptr);
  std::string name() const override { return "LSTM"; }
};

/// A gated recurrent unit, torch's gates in the order r, z, n: r and z sigmoid of
/// W_ih x_t + b_ih + W_hh h_(t-1) + b_hh; n = tanh(W_in x_t + b_in + r (W_hn h_(t-1) + b_hn));
/// h_t = (1 - z) n + z h_(t-1).
class GRU : public RNNBase {
 public:
  /// A stack from input_size to hidden_size features (see RNNOptions).
  GRU(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& opts = {},
      Generator* gen = nullptr);
  std::string name() const override { return "GRU"; }
};

}  // namespace tapegrad::nn
