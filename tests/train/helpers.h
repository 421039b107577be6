// Shared by the train tests: a tiny classifier whose logits are its inputs, and its data.
#pragma once
#include "../core/helpers.h"

namespace train = tg::train;
namespace nn = tg::nn;
namespace data = tg::data;

/// Linear(k, k) set to the identity, then dropout: in eval mode the logits are the inputs, in
/// training mode they are not (so a forgotten eval() shows).
inline nn::Sequential identity_model(std::int64_t k, tg::Dtype dtype = tg::kFloat64) {
  nn::Sequential m(nn::Linear(k, k), nn::Dropout(0.5));
  auto p = m.parameters();
  p[0].set_data(tg::eye(k, {.dtype = dtype}));
  p[1].set_data(tg::zeros({k}, {.dtype = dtype}));
  return m;
}
