// rnn_layer: one recurrent layer in one direction, forward and backward through time.
// Legend: steps T, batch B, features I in and H hidden, G gate blocks (1, 4 or 3); a "gates" row
// holds G*H values. The result is recorded as one tensor P (T + 1 or T + 2, B, H): the outputs,
// then h_n, then (LSTM) c_n, since a tape entry has one output; rnn_layer hands out its parts.
#include "tapegrad/core/ops/rnn.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/autograd.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

std::int64_t rnn_gate_count(RNNMode mode) {
  switch (mode) {
    case RNNMode::LSTM: return 4;
    case RNNMode::GRU: return 3;
    default: return 1;
  }
}

namespace {

const char* op_name(RNNMode mode) {
  switch (mode) {
    case RNNMode::Tanh: return "rnn_tanh";
    case RNNMode::Relu: return "rnn_relu";
    case RNNMode::LSTM: return "lstm";
    default: return "gru";
  }
}

// Eigen array views of n values: the gates' loops are whole-segment expressions, so exp and
// tanh run vectorised.
template <typename T>
Eigen::Map<ArrayX<T>> seg(T* p, std::int64_t n) {
  return {p, n};
}
template <typename T>
Eigen::Map<const ArrayX<T>> cseg(const T* p, std::int64_t n) {
  return {p, n};
}
template <typename E>
auto sigmoid_of(const E& e) {
  using T = typename E::Scalar;
  return ((-e).exp() + T(1)).inverse();
}

// One call's sizes and its lengths: which (step, sequence) pairs run.
struct Steps {
  std::int64_t n, batch, in, hidden, gates;  // T, B, I, H, G*H
  bool reverse;
  std::vector<std::int64_t> lengths;  // empty: every sequence runs all n steps
  std::int64_t time(std::int64_t s) const { return reverse ? n - 1 - s : s; }
  bool active(std::int64_t b, std::int64_t t) const { return lengths.empty() || t < lengths[b]; }
};

// What the backward pass reads, kept from the forward one ((T, B, .) each, indexed by time).
struct Saved {
  ImplPtr act;     // the gates after their nonlinearities (the Elman RNN's: h itself)
  ImplPtr hprev;   // the h each step started from
  ImplPtr cprev;   // LSTM: the c each step started from
  ImplPtr tanh_c;  // LSTM: tanh of the c each step ended with
  ImplPtr hn;      // GRU: W_hn h + b_hn, which r multiplies
};

// The forward pass: P's last rows hold the state (h, then c) from h0 and c0 to h_n and c_n;
// act starts as the input projection and each step turns its rows into the gates' values.
template <typename T, RNNMode M>
void forward_steps(const Steps& st, const TensorImpl& w_hh, const TensorImpl* b_hh, TensorImpl& P,
                   Saved& sv, TensorImpl& hp_buf) {
  const std::int64_t B = st.batch, H = st.hidden, GH = st.gates;
  T* const h = P.data<T>() + st.n * B * H;
  T* const c = M == RNNMode::LSTM ? h + B * H : nullptr;
  auto hp = mat<T>(hp_buf, B, GH);
  const auto whh = cmat<T>(w_hh, GH, H);
  for (std::int64_t s = 0; s < st.n; ++s) {
    const std::int64_t t = st.time(s);
    gemm<false>(hp, Eigen::Map<const MatrixRM<T>>(h, B, H), whh.transpose());
    if (b_hh) hp.rowwise() += cmat<T>(*b_hh, 1, GH).row(0);
    if (sv.hprev) std::copy_n(h, B * H, sv.hprev->data<T>() + t * B * H);
    if constexpr (M == RNNMode::LSTM)
      if (sv.cprev) std::copy_n(c, B * H, sv.cprev->data<T>() + t * B * H);
    parallel_chunks(
        B,
        [&](std::int64_t b0, std::int64_t b1) {
          for (std::int64_t b = b0; b < b1; ++b) {
            const std::int64_t row = t * B + b;
            auto out = seg(P.data<T>() + row * H, H);
            if (!st.active(b, t)) {
              out.setZero();
              continue;
            }
            T* a = sv.act->data<T>() + row * GH;
            const T* g = hp.data() + b * GH;
            auto hb = seg(h + b * H, H);
            if constexpr (M == RNNMode::LSTM) {
              auto i = seg(a, H), f = seg(a + H, H), gg = seg(a + 2 * H, H), o = seg(a + 3 * H, H);
              i = sigmoid_of(i + cseg(g, H));
              f = sigmoid_of(f + cseg(g + H, H));
              gg = (gg + cseg(g + 2 * H, H)).tanh();
              o = sigmoid_of(o + cseg(g + 3 * H, H));
              auto cb = seg(c + b * H, H);
              cb = f * cb + i * gg;
              if (sv.tanh_c) {
                auto tc = seg(sv.tanh_c->data<T>() + row * H, H);
                tc = cb.tanh();
                hb = o * tc;
              } else {
                hb = o * cb.tanh();
              }
            } else if constexpr (M == RNNMode::GRU) {
              auto r = seg(a, H), z = seg(a + H, H), n = seg(a + 2 * H, H);
              const auto hn = cseg(g + 2 * H, H);
              r = sigmoid_of(r + cseg(g, H));
              z = sigmoid_of(z + cseg(g + H, H));
              n = (n + r * hn).tanh();
              if (sv.hn) seg(sv.hn->data<T>() + row * H, H) = hn;
              hb = (hb - n) * z + n;  // torch's order of operations
            } else if constexpr (M == RNNMode::Tanh) {
              auto y = seg(a, H);
              y = (y + cseg(g, H)).tanh();
              hb = y;
            } else {
              auto y = seg(a, H);
              y = (y + cseg(g, H)).max(T(0));
              hb = y;
            }
            out = hb;
          }
        },
        GH * 8);
  }
}

// The backward pass through time. dgi and dgh (T, B, G*H) receive the gradients of the input
// and hidden projections (one buffer but for the GRU, where r scales W_hn h's); dh and dc
// (B, H) carry the state's gradient from step to step, starting from h_n's and c_n's.
template <typename T, RNNMode M>
void backward_steps(const Steps& st, const Saved& sv, const TensorImpl& gP, const TensorImpl& w_hh,
                    TensorImpl& dgi, TensorImpl& dgh, T* dh, T* dc) {
  const std::int64_t B = st.batch, H = st.hidden, GH = st.gates;
  const auto whh = cmat<T>(w_hh, GH, H);
  for (std::int64_t s = st.n - 1; s >= 0; --s) {
    const std::int64_t t = st.time(s);
    parallel_chunks(
        B,
        [&](std::int64_t b0, std::int64_t b1) {
          for (std::int64_t b = b0; b < b1; ++b) {
            const std::int64_t row = t * B + b;
            T* gi = dgi.data<T>() + row * GH;
            T* gh = dgh.data<T>() + row * GH;
            if (!st.active(b, t)) {  // the state passes through untouched
              seg(gi, GH).setZero();
              if (gh != gi) seg(gh, GH).setZero();
              continue;
            }
            const T* a = sv.act->data<T>() + row * GH;
            auto dht = seg(dh + b * H, H);  // becomes dL/dh_t, then the part h_(t-1) gets here
            dht += cseg(gP.data<T>() + row * H, H);
            if constexpr (M == RNNMode::LSTM) {
              const auto i = cseg(a, H), f = cseg(a + H, H), gg = cseg(a + 2 * H, H),
                         o = cseg(a + 3 * H, H);
              const auto tc = cseg(sv.tanh_c->data<T>() + row * H, H);
              auto dct = seg(dc + b * H, H);
              dct += dht * o * (T(1) - tc.square());
              seg(gi, H) = dct * gg * i * (T(1) - i);
              seg(gi + H, H) = dct * cseg(sv.cprev->data<T>() + row * H, H) * f * (T(1) - f);
              seg(gi + 2 * H, H) = dct * i * (T(1) - gg.square());
              seg(gi + 3 * H, H) = dht * tc * o * (T(1) - o);
              dct *= f;
              dht.setZero();
            } else if constexpr (M == RNNMode::GRU) {
              const auto r = cseg(a, H), z = cseg(a + H, H), n = cseg(a + 2 * H, H);
              const auto hprev = cseg(sv.hprev->data<T>() + row * H, H);
              auto dn = seg(gi + 2 * H, H);
              dn = dht * (T(1) - z) * (T(1) - n.square());
              seg(gh + 2 * H, H) = dn * r;
              seg(gi, H) = dn * cseg(sv.hn->data<T>() + row * H, H) * r * (T(1) - r);
              seg(gh, H) = seg(gi, H);
              seg(gi + H, H) = dht * (hprev - n) * z * (T(1) - z);
              seg(gh + H, H) = seg(gi + H, H);
              dht *= z;
            } else if constexpr (M == RNNMode::Tanh) {
              const auto y = cseg(a, H);
              seg(gi, H) = dht * (T(1) - y.square());
              dht.setZero();
            } else {
              seg(gi, H) = (cseg(a, H) > T(0)).select(dht, T(0));
              dht.setZero();
            }
          }
        },
        GH * 8);
    gemm<true>(Eigen::Map<MatrixRM<T>>(dh, B, H), cmat<T>(dgh, st.n * B, GH).middleRows(t * B, B),
               whh);
  }
}

// P recomputed in recorded ops from the layer's inputs (x, w_ih, w_hh, h0, then c0 for an
// LSTM, then b_ih and b_hh when given), one step at a time as torch's cells compute it: what
// the create_graph derivative differentiates, so that every order runs through these ops.
Tensor recomputed(RNNMode mode, const Steps& st, const std::vector<Tensor>& in, bool bias) {
  const bool lstm = mode == RNNMode::LSTM;
  const std::int64_t B = st.batch, H = st.hidden, GH = st.gates;
  const std::size_t nb = lstm ? 5 : 4;
  const Tensor w_hh_t = transpose(in[2], 0, 1);
  Tensor xp = matmul(in[0], transpose(in[1], 0, 1));  // (T, B, GH)
  if (bias) xp = xp + in[nb];
  Tensor h = in[3], c = lstm ? in[4] : Tensor();
  std::vector<Tensor> rows(static_cast<std::size_t>(st.n));
  for (std::int64_t s = 0; s < st.n; ++s) {
    const std::int64_t t = st.time(s);
    Tensor hp = matmul(h, w_hh_t);
    if (bias) hp = hp + in[nb + 1];
    const Tensor xt = narrow(xp, 0, t, 1).reshape({B, GH});
    auto part = [H](const Tensor& a, std::int64_t k) { return narrow(a, 1, k * H, H); };
    Tensor hn, cn;
    if (lstm) {
      const Tensor a = xt + hp;
      cn = sigmoid(part(a, 1)) * c + sigmoid(part(a, 0)) * tanh(part(a, 2));
      hn = sigmoid(part(a, 3)) * tanh(cn);
    } else if (mode == RNNMode::GRU) {
      const Tensor r = sigmoid(part(xt, 0) + part(hp, 0)), z = sigmoid(part(xt, 1) + part(hp, 1));
      const Tensor n = tanh(part(xt, 2) + r * part(hp, 2));
      hn = (h - n) * z + n;
    } else {
      hn = mode == RNNMode::Tanh ? tanh(xt + hp) : relu(xt + hp);
    }
    if (st.lengths.empty()) {
      h = hn;
      c = cn;
      rows[static_cast<std::size_t>(t)] = hn;
      continue;
    }
    // Sequences past their length keep their state and output zeros.
    std::vector<double> on(static_cast<std::size_t>(B));
    for (std::int64_t b = 0; b < B; ++b) on[static_cast<std::size_t>(b)] = st.active(b, t);
    const Tensor m = from_vector(on, {B, 1}).to(hn.dtype());
    rows[static_cast<std::size_t>(t)] = hn * m;
    h = where(m, hn, h);
    if (lstm) c = where(m, cn, c);
  }
  rows.push_back(h);
  if (lstm) rows.push_back(c);
  return stack(rows, 0);
}

// The create_graph derivative: the inputs' gradients as those of the recomputed P against the
// incoming gradient. The recomputation starts from fresh recorded aliases of the inputs, so
// that its inner pass ends at them and leaves the outer pass's entries alone.
void rnn_graph(GraphCtx& c, RNNMode mode, const Steps& st, bool bias) {
  std::vector<Tensor> in, wanted;
  std::vector<std::size_t> at;
  // The inputs may come from another thread's tape, numbered ahead of this one's.
  for (const Node::Input& x : c.node.inputs)
    if (x.t->node) number_after(x.t->node->seq);
  for (std::size_t i = 0; i < c.node.inputs.size(); ++i) {
    const Tensor x = c.in(i);
    in.push_back(c.needs(i) ? x.reshape(x.shape()) : x);
    if (c.needs(i)) {
      wanted.push_back(in.back());
      at.push_back(i);
    }
  }
  if (wanted.empty()) return;
  const std::vector<Tensor> g = grad({recomputed(mode, st, in, bias)}, wanted, {c.grad_out()},
                                     {.create_graph = true, .allow_unused = true});
  for (std::size_t k = 0; k < at.size(); ++k)
    c.add(at[k], g[k].defined() ? g[k] : zeros_like(wanted[k]));
}

template <RNNMode M>
struct ModeTag {};

// Calls f(ModeTag<M>{}) for the runtime mode, so the step loops are compiled once per mode.
template <typename F>
decltype(auto) dispatch_mode(RNNMode mode, F&& f) {
  switch (mode) {
    case RNNMode::Tanh: return f(ModeTag<RNNMode::Tanh>{});
    case RNNMode::Relu: return f(ModeTag<RNNMode::Relu>{});
    case RNNMode::LSTM: return f(ModeTag<RNNMode::LSTM>{});
    default: return f(ModeTag<RNNMode::GRU>{});
  }
}

// Throws unless t is (rows, cols) of dtype d, naming the op and the operand.
void check_matrix(const char* op, const char* name, const TensorImpl& t, std::int64_t rows,
                  std::int64_t cols, Dtype d) {
  if (t.dtype != d)
    throw ValueError(msg(op, ": ", name, " is ", dtype_name(t.dtype), " but x is ", dtype_name(d),
                         "; convert with .to()"));
  const Shape want = cols < 0 ? Shape{rows} : Shape{rows, cols};
  if (t.shape != want)
    throw ShapeError(
        msg(op, ": ", name, " must be ", shape_str(want), ": got ", shape_str(t.shape)));
}

}  // namespace

RNNLayerResult rnn_layer(RNNMode mode, const Tensor& x, const Tensor& h0, const Tensor& c0,
                         const RNNWeights& w, const std::vector<std::int64_t>& lengths,
                         bool reverse) {
  const char* op = op_name(mode);
  const bool lstm = mode == RNNMode::LSTM;
  const TensorImpl &ix = impl_of(x, op), &iwi = impl_of(w.w_ih, op), &iwh = impl_of(w.w_hh, op);
  check_floating(op, ix);
  check_rank(op, "x", ix, 3);
  check_rank(op, "w_hh", iwh, 2);
  const Dtype d = ix.dtype;
  const std::int64_t G = rnn_gate_count(mode), H = iwh.shape[1];
  Steps st{ix.shape[0], ix.shape[1], ix.shape[2], H, checked_mul(G, H, op), reverse, lengths};
  check_matrix(op, "w_hh", iwh, st.gates, H, d);
  check_matrix(op, "w_ih", iwi, st.gates, st.in, d);
  if (w.b_ih.defined() != w.b_hh.defined())
    throw ValueError(msg(op, ": b_ih and b_hh must both be given or both be left out"));
  const bool bias = w.b_ih.defined();
  if (bias) {
    check_matrix(op, "b_ih", impl_of(w.b_ih, op), st.gates, -1, d);
    check_matrix(op, "b_hh", impl_of(w.b_hh, op), st.gates, -1, d);
  }
  if (h0.defined()) check_matrix(op, "h0", impl_of(h0, op), st.batch, H, d);
  if (c0.defined() && !lstm) throw ValueError(msg(op, ": c0 is for an LSTM only"));
  if (c0.defined()) check_matrix(op, "c0", impl_of(c0, op), st.batch, H, d);
  if (!lengths.empty()) {
    if (static_cast<std::int64_t>(lengths.size()) != st.batch)
      throw ShapeError(msg(op, ": ", lengths.size(), " lengths for a batch of ", st.batch));
    for (std::size_t b = 0; b < lengths.size(); ++b)
      if (lengths[b] < 1 || lengths[b] > st.n)
        throw ValueError(msg(op, ": length ", lengths[b], " of sequence ", b, " is outside [1, ",
                             st.n, "] (x has ", st.n, " steps)"));
  }
  const std::int64_t rows = checked_mul(st.n, st.batch, op);
  checked_mul(checked_mul(rows, st.gates, op), 2, op);  // act and its gradient's sizes fit
  const Tensor h_init = h0.defined() ? h0 : zeros({st.batch, H}, {.dtype = d});
  const Tensor c_init = !lstm ? Tensor() : c0.defined() ? c0 : zeros({st.batch, H}, {.dtype = d});
  std::vector<Tensor> inputs{x, w.w_ih, w.w_hh, h_init};
  if (lstm) inputs.push_back(c_init);
  if (bias) inputs.insert(inputs.end(), {w.b_ih, w.b_hh});
  const bool track = any_requires_grad(inputs);

  const std::int64_t B = st.batch, GH = st.gates, n_rows = st.n + 1 + (lstm ? 1 : 0);
  Tensor P = dispatch_float(d, op, [&]<typename T>() {
    return dispatch_mode(mode, [&]<RNNMode M>(ModeTag<M>) {
      Saved sv;
      sv.act = make_impl({st.n, B, GH}, d);
      gemm<false>(mat<T>(*sv.act, rows, GH), cmat<T>(ix, rows, st.in),
                  cmat<T>(iwi, GH, st.in).transpose());
      if (bias) mat<T>(*sv.act, rows, GH).rowwise() += cmat<T>(*impl_ptr(w.b_ih), 1, GH).row(0);
      if (track && M != RNNMode::LSTM) sv.hprev = make_impl({st.n, B, H}, d);
      if (track && M == RNNMode::LSTM) {
        sv.hprev = make_impl({st.n, B, H}, d);
        sv.cprev = make_impl({st.n, B, H}, d);
        sv.tanh_c = make_impl({st.n, B, H}, d);
      }
      if (track && M == RNNMode::GRU) sv.hn = make_impl({st.n, B, H}, d);
      ImplPtr out = make_impl({n_rows, B, H}, d);
      std::copy_n(impl_ptr(h_init)->data<T>(), B * H, out->data<T>() + st.n * B * H);
      if constexpr (M == RNNMode::LSTM)
        std::copy_n(impl_ptr(c_init)->data<T>(), B * H, out->data<T>() + (st.n + 1) * B * H);
      const ImplPtr hp = make_impl({B, GH}, d);
      forward_steps<T, M>(st, iwh, bias ? impl_ptr(w.b_hh).get() : nullptr, *out, sv, *hp);
      return record(
          op, std::move(out), inputs,
          WithGraph{
              [st, sv, bias](BackwardCtx& c) {
                const std::int64_t B = st.batch, H = st.hidden, GH = st.gates, R = st.n * B;
                const ImplPtr dgi = make_impl({st.n, B, GH}, c.grad_out().dtype);
                const ImplPtr dgh = M == RNNMode::GRU ? make_impl({st.n, B, GH}, dgi->dtype) : dgi;
                // The state's gradient starts as h_n's and c_n's, the rows of P after the outputs.
                const ImplPtr dh = make_impl({B, H}, dgi->dtype);
                const T* gP = c.grad_out().data<T>();
                std::copy_n(gP + st.n * B * H, B * H, dh->data<T>());
                ImplPtr dc;
                if (M == RNNMode::LSTM) {
                  dc = make_impl({B, H}, dgi->dtype);
                  std::copy_n(gP + (st.n + 1) * B * H, B * H, dc->data<T>());
                }
                backward_steps<T, M>(st, sv, c.grad_out(), c.in(2), *dgi, *dgh, dh->data<T>(),
                                     dc ? dc->data<T>() : nullptr);
                const auto gi = cmat<T>(*dgi, R, GH), gh = cmat<T>(*dgh, R, GH);
                if (TensorImpl* gx = c.grad_in(0))
                  gemm<true>(mat<T>(*gx, R, st.in), gi, cmat<T>(c.in(1), GH, st.in));
                if (TensorImpl* gw = c.grad_in(1))
                  gemm<true>(mat<T>(*gw, GH, st.in), gi.transpose(), cmat<T>(c.in(0), R, st.in));
                if (TensorImpl* gw = c.grad_in(2))
                  gemm<true>(mat<T>(*gw, GH, H), gh.transpose(), cmat<T>(*sv.hprev, R, H));
                if (TensorImpl* g = c.grad_in(3)) vec<T>(*g) += cvec<T>(*dh);
                const std::size_t next = M == RNNMode::LSTM ? 5 : 4;
                if (M == RNNMode::LSTM)
                  if (TensorImpl* g = c.grad_in(4)) vec<T>(*g) += cvec<T>(*dc);
                if (bias) {
                  if (TensorImpl* g = c.grad_in(next))
                    sum_into(g->data<T>(), g->shape, dgi->data<T>(), dgi->shape);
                  if (TensorImpl* g = c.grad_in(next + 1))
                    sum_into(g->data<T>(), g->shape, dgh->data<T>(), dgh->shape);
                }
              },
              [mode, st, bias](GraphCtx& c) { rnn_graph(c, mode, st, bias); }});
    });
  });
  RNNLayerResult r;
  r.output = narrow(P, 0, 0, st.n);
  r.h_n = narrow(P, 0, st.n, 1).reshape({B, H});
  if (lstm) r.c_n = narrow(P, 0, st.n + 1, 1).reshape({B, H});
  return r;
}

}  // namespace tapegrad
