// Loss modules: each holds a reduction and calls its function in functional.h. Call them with
// (input, target).
#pragma once
#include "tapegrad/nn/functional.h"

namespace tapegrad::nn {

/// Base of the loss modules: y = loss(input, target).
class Loss {
 public:
  explicit Loss(Reduction r = Reduction::Mean) : reduction_(r) {}
  virtual ~Loss() = default;
  virtual Tensor forward(const Tensor& input, const Tensor& target) const = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return forward(input, target);
  }
  Reduction reduction() const { return reduction_; }

 protected:
  Reduction reduction_;
};

class MSELoss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& input, const Tensor& target) const override;
};
class L1Loss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& input, const Tensor& target) const override;
};
class CrossEntropyLoss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& logits, const Tensor& target) const override;
};
class NLLLoss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& log_probs, const Tensor& target) const override;
};
class BCELoss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& probs, const Tensor& target) const override;
};
class BCEWithLogitsLoss : public Loss {
 public:
  using Loss::Loss;
  Tensor forward(const Tensor& logits, const Tensor& target) const override;
};

}  // namespace tapegrad::nn
