// Loss modules: each holds a reduction and calls its function in functional.h. Call them with
// (input, target).
#pragma once
#include <utility>

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
  explicit CrossEntropyLoss(const functional::CrossEntropyOptions& o)
      : Loss(o.reduction), options_(o) {}
  Tensor forward(const Tensor& logits, const Tensor& target) const override;

 private:
  functional::CrossEntropyOptions options_;
};
class NLLLoss : public Loss {
 public:
  using Loss::Loss;
  explicit NLLLoss(const functional::NLLLossOptions& o) : Loss(o.reduction), options_(o) {}
  Tensor forward(const Tensor& log_probs, const Tensor& target) const override;

 private:
  functional::NLLLossOptions options_;
};
class BCELoss : public Loss {
 public:
  explicit BCELoss(Reduction r = Reduction::Mean, Tensor weight = Tensor())
      : Loss(r), weight_(std::move(weight)) {}
  Tensor forward(const Tensor& probs, const Tensor& target) const override;

 private:
  Tensor weight_;
};
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(Reduction r = Reduction::Mean, Tensor weight = Tensor(),
                             Tensor pos_weight = Tensor())
      : Loss(r), weight_(std::move(weight)), pos_weight_(std::move(pos_weight)) {}
  Tensor forward(const Tensor& logits, const Tensor& target) const override;

 private:
  Tensor weight_, pos_weight_;
};

class HuberLoss : public Loss {
 public:
  explicit HuberLoss(Reduction r = Reduction::Mean, double delta = 1);
  Tensor forward(const Tensor& input, const Tensor& target) const override;

 private:
  double delta_;
};
class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(Reduction r = Reduction::Mean, double beta = 1);
  Tensor forward(const Tensor& input, const Tensor& target) const override;

 private:
  double beta_;
};
/// Input as log-probabilities; Reduction::BatchMean gives the true divergence.
class KLDivLoss : public Loss {
 public:
  explicit KLDivLoss(Reduction r = Reduction::Mean, bool log_target = false)
      : Loss(r), log_target_(log_target) {}
  Tensor forward(const Tensor& input, const Tensor& target) const override;

 private:
  bool log_target_;
};

}  // namespace tapegrad::nn
