// RNNCell, LSTMCell and GRUCell: one step of core's rnn_layer (a sequence of length one), with
// torch's parameters and its unbatched form.
#include "tapegrad/nn/rnn_cell.h"

#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/init.h"

namespace tapegrad::nn {

RNNCellBase::RNNCellBase(RNNMode mode, const char* what, std::int64_t input_size,
                         std::int64_t hidden_size, bool bias, Generator* gen)
    : mode_(mode), what_(what), input_size_(input_size), hidden_size_(hidden_size) {
  if (input_size < 1 || hidden_size < 1)
    throw ValueError(msg(what, ": input_size and hidden_size must be positive: got ", input_size,
                         ", ", hidden_size));
  const std::int64_t GH = rnn_gate_count(mode) * hidden_size;
  const double bound = 1 / std::sqrt(static_cast<double>(hidden_size));
  auto param = [&](const char* name, Shape shape) {  // drawn in registration order, as torch's
    Tensor p = empty(shape);
    init::uniform_(p, -bound, bound, gen);
    return register_parameter(name, p);
  };
  w_.w_ih = param("weight_ih", {GH, input_size});
  w_.w_hh = param("weight_hh", {GH, hidden_size});
  if (bias) {
    w_.b_ih = param("bias_ih", {GH});
    w_.b_hh = param("bias_hh", {GH});
  }
}

RNNState RNNCellBase::step(const Tensor& x, const RNNState& state) {
  if (!x.defined()) throw ValueError(msg(what_, ": x is undefined"));
  if ((x.dim() != 1 && x.dim() != 2) || x.size(-1) != input_size_)
    throw ShapeError(msg(what_, ": x must be (B, ", input_size_, ") or (", input_size_, "): got ",
                         shape_str(x.shape())));
  const bool batched = x.dim() == 2;
  const Shape want = batched ? Shape{x.size(0), hidden_size_} : Shape{hidden_size_};
  for (const auto* part : {&state.h, &state.c})
    if (part->defined() && part->shape() != want)
      throw ShapeError(msg(what_, ": ", part == &state.h ? "h" : "c", " must be ", shape_str(want),
                           ": got ", shape_str(part->shape())));
  if (state.c.defined() && mode_ != RNNMode::LSTM)
    throw ValueError(msg(what_, ": a cell state is an LSTM's only"));
  auto as_batch = [&](const Tensor& t) { return t.defined() && !batched ? t.unsqueeze(0) : t; };
  const RNNLayerResult r =
      rnn_layer(mode_, as_batch(x).unsqueeze(0), as_batch(state.h), as_batch(state.c), w_);
  RNNState next{r.h_n, r.c_n};
  if (!batched) {
    next.h = next.h.squeeze(0);
    if (next.c.defined()) next.c = next.c.squeeze(0);
  }
  return next;
}

std::string RNNCellBase::extra_repr() const {
  return msg(input_size_, ", ", hidden_size_, w_.b_ih.defined() ? "" : ", bias=False");
}

RNNCell::RNNCell(std::int64_t input_size, std::int64_t hidden_size, bool bias,
                 Nonlinearity nonlinearity, Generator* gen)
    : RNNCellBase(nonlinearity == Nonlinearity::ReLU ? RNNMode::Relu : RNNMode::Tanh, "RNNCell",
                  input_size, hidden_size, bias, gen) {}

std::string RNNCell::extra_repr() const {
  return RNNCellBase::extra_repr() + (mode() == RNNMode::Relu ? ", nonlinearity=relu" : "");
}

LSTMCell::LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias, Generator* gen)
    : RNNCellBase(RNNMode::LSTM, "LSTMCell", input_size, hidden_size, bias, gen) {}

GRUCell::GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias, Generator* gen)
    : RNNCellBase(RNNMode::GRU, "GRUCell", input_size, hidden_size, bias, gen) {}

}  // namespace tapegrad::nn
