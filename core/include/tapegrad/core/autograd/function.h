// User-defined differentiable functions, like torch.autograd.Function: a forward and a backward
// written with tensor ops, recorded on the tape as one entry, without touching core.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// What forward hands to backward: saved tensors and any scalars the function needs.
class FunctionCtx {
 public:
  /// Keeps tensors for backward (replacing any saved before), e.g. the inputs or the output.
  void save_for_backward(std::vector<Tensor> ts) { saved_ = std::move(ts); }
  /// The tensors save_for_backward kept, in the order given.
  const std::vector<Tensor>& saved() const { return saved_; }
  std::vector<double> scalars;  ///< free-form numbers kept for backward

 private:
  std::vector<Tensor> saved_;
};

/// Receives the context and the inputs; returns the output, computed without recording.
using ForwardFn = std::function<Tensor(FunctionCtx&, const std::vector<Tensor>&)>;
/// Receives the gradient of the output; returns one gradient per input, of the input's shape
/// (an undefined Tensor where an input needs none).
using BackwardFn = std::function<std::vector<Tensor>(FunctionCtx&, const Tensor&)>;

/// Runs forward without recording, then records one tape entry named `name` whose backward
/// calls `backward`: without recording, or, in a create_graph pass, recording, so that a
/// backward written in tensor ops has derivatives of its own (double backward, as torch's).
/// There a saved output (the tensor forward returned) stands for the recorded result, so the
/// second derivative runs through it; save inputs, or the output, not copies of either.
Tensor apply_function(const std::string& name, const std::vector<Tensor>& inputs, ForwardFn forward,
                      BackwardFn backward);

/// Class form: F has static forward(FunctionCtx&, const Tensor&...) and
/// static backward(FunctionCtx&, const Tensor& grad_out) -> std::vector<Tensor>,
/// and optionally `static constexpr const char* name`.
template <typename F, typename... Args>
Tensor apply(const Args&... args) {
  std::vector<Tensor> inputs{args...};
  const char* name = "custom";
  if constexpr (requires { F::name; }) name = F::name;
  return apply_function(
      name, inputs,
      [](FunctionCtx& ctx, const std::vector<Tensor>& in) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
          return F::forward(ctx, in[I]...);
        }
        (std::index_sequence_for<Args...>{});
      },
      [](FunctionCtx& ctx, const Tensor& g) { return F::backward(ctx, g); });
}

}  // namespace tapegrad
