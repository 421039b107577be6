// One step of a recurrent layer, laid out as PyTorch's nn.RNNCell / nn.LSTMCell / nn.GRUCell:
// weight_ih (G*H, I), weight_hh (G*H, H), bias_ih and bias_hh (G*H), every one uniform in
// +-1/sqrt(H) at first, and the gates in torch's order (see rnn.h for the formulas).
#pragma once
#include <cstdint>

#include "tapegrad/core/ops/rnn.h"
#include "tapegrad/core/random.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/nn/rnn.h"

namespace tapegrad::nn {

/// What the cells share: their four parameters and one step over rnn_layer.
class RNNCellBase : public Module {
 public:
  std::string extra_repr() const override;
  /// Features of the input.
  std::int64_t input_size() const { return input_size_; }
  /// Features of the hidden state.
  std::int64_t hidden_size() const { return hidden_size_; }
  /// The weights, as rnn_layer takes them.
  const RNNWeights& weights() const { return w_; }

 protected:
  /// A cell for mode; `what` names it in errors. ValueError for non-positive sizes.
  RNNCellBase(RNNMode mode, const char* what, std::int64_t input_size, std::int64_t hidden_size,
              bool bias, Generator* gen);
  /// One step from x (B, I) or (I) and the state (B, H) or (H), undefined parts zero.
  RNNState step(const Tensor& x, const RNNState& state);
  /// The recurrence the cell runs.
  RNNMode mode() const { return mode_; }

 private:
  RNNMode mode_;
  const char* what_;
  std::int64_t input_size_, hidden_size_;
  RNNWeights w_;
};

/// h' = tanh(W_ih x + b_ih + W_hh h + b_hh), or ReLU instead of tanh.
class RNNCell : public RNNCellBase {
 public:
  /// A cell from input_size to hidden_size features; bias false leaves out b_ih and b_hh.
  RNNCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true,
          Nonlinearity nonlinearity = Nonlinearity::Tanh, Generator* gen = nullptr);
  /// h' from a zero h.
  Tensor forward(const Tensor& x) override { return step(x, {}).h; }
  /// h' from h (undefined: zero).
  Tensor forward(const Tensor& x, const Tensor& h) { return step(x, {h, {}}).h; }
  using Module::operator();
  /// forward(x, h).
  Tensor operator()(const Tensor& x, const Tensor& h) { return forward(x, h); }
  std::string name() const override { return "RNNCell"; }
  std::string extra_repr() const override;
};

/// One LSTM step: (h', c') from x and (h, c).
class LSTMCell : public RNNCellBase {
 public:
  /// A cell from input_size to hidden_size features; bias false leaves out b_ih and b_hh.
  LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true,
           Generator* gen = nullptr);
  /// h' from a zero state.
  Tensor forward(const Tensor& x) override { return step(x, {}).h; }
  /// (h', c') from (h, c) (undefined parts zero).
  RNNState forward(const Tensor& x, const RNNState& state) { return step(x, state); }
  using Module::operator();
  /// forward(x, state).
  RNNState operator()(const Tensor& x, const RNNState& state) { return forward(x, state); }
  std::string name() const override { return "LSTMCell"; }
};

/// One GRU step: h' from x and h.
class GRUCell : public RNNCellBase {
 public:
  /// A cell from input_size to hidden_size features; bias false leaves out b_ih and b_hh.
  GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true,
          Generator* gen = nullptr);
  /// h' from a zero h.
  Tensor forward(const Tensor& x) override { return step(x, {}).h; }
  /// h' from h (undefined: zero).
  Tensor forward(const Tensor& x, const Tensor& h) { return step(x, {h, {}}).h; }
  using Module::operator();
  /// forward(x, h).
  Tensor operator()(const Tensor& x, const Tensor& h) { return forward(x, h); }
  std::string name() const override { return "GRUCell"; }
};

}  // namespace tapegrad::nn
