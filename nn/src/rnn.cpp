// RNN, LSTM and GRU: torch's parameters and shapes around core's rnn_layer, one call per layer
// and direction; the layout work (batch_first, unbatched input, the state's slices) is here.
#include "tapegrad/nn/rnn.h"

#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/functional.h"
#include "tapegrad/nn/init.h"

namespace tapegrad::nn {

namespace {

RNNMode rnn_mode(Nonlinearity n) { return n == Nonlinearity::ReLU ? RNNMode::Relu : RNNMode::Tanh; }

// Row k of a state (L * D, B, H) as (B, H); undefined stays undefined.
Tensor state_row(const Tensor& s, std::int64_t k) {
  return s.defined() ? narrow(s, 0, k, 1).squeeze(0) : Tensor();
}

// Throws unless the state part s is undefined or has the given shape.
void check_state(const char* what, const char* part, const Tensor& s, const Shape& want) {
  if (s.defined() && s.shape() != want)
    throw ShapeError(
        msg(what, ": ", part, " must be ", shape_str(want), ": got ", shape_str(s.shape())));
}

}  // namespace

RNNBase::RNNBase(RNNMode mode, const char* what, std::int64_t input_size, std::int64_t hidden_size,
                 const RNNOptions& opts, Generator* gen)
    : mode_(mode), what_(what), input_size_(input_size), hidden_size_(hidden_size), opts_(opts) {
  if (input_size < 1 || hidden_size < 1 || opts.num_layers < 1)
    throw ValueError(msg(what, ": input_size, hidden_size and num_layers must be positive: got ",
                         input_size, ", ", hidden_size, ", ", opts.num_layers));
  if (!(opts.dropout >= 0 && opts.dropout <= 1))
    throw ValueError(msg(what, ": dropout must be in [0, 1]: got ", opts.dropout));
  if (mode != RNNMode::Tanh && mode != RNNMode::Relu && opts.nonlinearity != Nonlinearity::Tanh)
    throw ValueError(msg(what, ": the nonlinearity option is the Elman RNN's alone"));
  const std::int64_t G = rnn_gate_count(mode), H = hidden_size;
  const double bound = 1 / std::sqrt(static_cast<double>(H));
  const int directions = opts.bidirectional ? 2 : 1;
  // Registered in torch's order (layer, direction, then w_ih, w_hh, b_ih, b_hh), and drawn in
  // it, as torch's reset_parameters walks parameters().
  auto param = [&](const std::string& name, Shape shape) {
    Tensor p = empty(shape);
    init::uniform_(p, -bound, bound, gen);
    return register_parameter(name, p);
  };
  for (std::int64_t k = 0; k < opts.num_layers; ++k)
    for (int dir = 0; dir < directions; ++dir) {
      const std::string suffix = msg("_l", k, dir == 1 ? "_reverse" : "");
      const std::int64_t in = k == 0 ? input_size : H * directions;
      RNNWeights w;
      w.w_ih = param("weight_ih" + suffix, {G * H, in});
      w.w_hh = param("weight_hh" + suffix, {G * H, H});
      if (opts.bias) {
        w.b_ih = param("bias_ih" + suffix, {G * H});
        w.b_hh = param("bias_hh" + suffix, {G * H});
      }
      weights_.push_back(w);
    }
}

RNNWeights RNNBase::weights(std::int64_t layer, bool reverse) const {
  if (layer < 0 || layer >= opts_.num_layers || (reverse && !opts_.bidirectional))
    throw ValueError(msg(what_, ": no layer ", layer, reverse ? " in reverse" : "", " (",
                         opts_.num_layers, " layers, ",
                         opts_.bidirectional ? "two directions" : "one direction", ")"));
  return weights_[layer * (opts_.bidirectional ? 2 : 1) + (reverse ? 1 : 0)];
}

Tensor RNNBase::forward(const Tensor& x) { return forward(x, RNNState{}).output; }

RNNResult RNNBase::forward(const Tensor& x, const RNNState& state,
                           const std::vector<std::int64_t>& lengths) {
  if (!x.defined()) throw ValueError(msg(what_, ": x is undefined"));
  const bool batched = x.dim() == 3;
  if (x.dim() != 2 && x.dim() != 3)
    throw ShapeError(msg(what_, ": x must be (T, B, ", input_size_, "), (B, T, ", input_size_,
                         ") with batch_first, or (T, ", input_size_, ") unbatched: got ",
                         shape_str(x.shape())));
  if (x.size(-1) != input_size_)
    throw ShapeError(msg(what_, ": x has ", x.size(-1), " features per step, input_size is ",
                         input_size_, " (x is ", shape_str(x.shape()), ")"));
  const bool lstm = mode_ == RNNMode::LSTM;
  if (state.c.defined() && !lstm) throw ValueError(msg(what_, ": a cell state is an LSTM's only"));
  const Tensor seq = !batched ? x.unsqueeze(1) : opts_.batch_first ? transpose(x, 0, 1) : x;
  const std::int64_t B = seq.size(1), H = hidden_size_, D = opts_.bidirectional ? 2 : 1;
  const std::int64_t rows = opts_.num_layers * D;
  const Shape state_shape = batched ? Shape{rows, B, H} : Shape{rows, H};
  check_state(what_, "h0", state.h, state_shape);
  check_state(what_, "c0", state.c, state_shape);
  const Tensor h0 = state.h.defined() && !batched ? state.h.unsqueeze(1) : state.h;
  const Tensor c0 = state.c.defined() && !batched ? state.c.unsqueeze(1) : state.c;

  Tensor in = seq;
  std::vector<Tensor> hs, cs, outs;
  for (std::int64_t k = 0; k < opts_.num_layers; ++k) {
    outs.clear();
    for (std::int64_t dir = 0; dir < D; ++dir) {
      const std::int64_t row = k * D + dir;
      RNNLayerResult r = rnn_layer(mode_, in, state_row(h0, row), state_row(c0, row), weights_[row],
                                   lengths, dir == 1);
      outs.push_back(r.output);
      hs.push_back(r.h_n);
      if (lstm) cs.push_back(r.c_n);
    }
    in = D == 2 ? cat(outs, 2) : outs[0];
    if (opts_.dropout > 0 && is_training() && k + 1 < opts_.num_layers)
      in = functional::dropout(in, opts_.dropout, true);
  }
  RNNResult r;
  r.output = !batched ? in.squeeze(1) : opts_.batch_first ? transpose(in, 0, 1) : in;
  r.h_n = stack(hs, 0);
  if (lstm) r.c_n = stack(cs, 0);
  if (!batched) {
    r.h_n = r.h_n.squeeze(1);
    if (lstm) r.c_n = r.c_n.squeeze(1);
  }
  return r;
}

std::string RNNBase::extra_repr() const {
  std::string r = msg(input_size_, ", ", hidden_size_);
  if (opts_.nonlinearity == Nonlinearity::ReLU) r += ", nonlinearity=relu";
  if (opts_.num_layers != 1) r += msg(", num_layers=", opts_.num_layers);
  if (!opts_.bias) r += ", bias=False";
  if (opts_.batch_first) r += ", batch_first=True";
  if (opts_.dropout != 0) r += msg(", dropout=", opts_.dropout);
  if (opts_.bidirectional) r += ", bidirectional=True";
  return r;
}

RNN::RNN(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& opts, Generator* gen)
    : RNNBase(rnn_mode(opts.nonlinearity), "RNN", input_size, hidden_size, opts, gen) {}

LSTM::LSTM(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& opts,
           Generator* gen)
    : RNNBase(RNNMode::LSTM, "LSTM", input_size, hidden_size, opts, gen) {}

GRU::GRU(std::int64_t input_size, std::int64_t hidden_size, const RNNOptions& opts, Generator* gen)
    : RNNBase(RNNMode::GRU, "GRU", input_size, hidden_size, opts, gen) {}

}  // namespace tapegrad::nn
