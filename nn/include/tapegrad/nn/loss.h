// Loss modules: each holds a reduction and calls its function in functional.h. Call them with
// (input, target).
#pragma once
#include <utility>

#include "tapegrad/nn/functional.h"

namespace tapegrad::nn {

/// Base of the loss modules: y = loss(input, target).
class Loss {
 public:
  /// A loss that reduces its values as r says.
  explicit Loss(Reduction r = Reduction::Mean) : reduction_(r) {}
  virtual ~Loss() = default;
  /// The loss of input against target, reduced as reduction() says.
  virtual Tensor forward(const Tensor& input, const Tensor& target) const = 0;
  /// forward(input, target).
  Tensor operator()(const Tensor& input, const Tensor& target) const {
    return forward(input, target);
  }
  /// How the loss reduces its per-element (or per-sample) values.
  Reduction reduction() const { return reduction_; }

 protected:
  /// The reduction forward applies.
  Reduction reduction_;
};

/// Mean squared error: functional::mse_loss.
class MSELoss : public Loss {
 public:
  /// A loss reduced as r says.
  using Loss::Loss;
  Tensor forward(const Tensor& input, const Tensor& target) const override;
};
/// Mean absolute error: functional::l1_loss.
class L1Loss : public Loss {
 public:
  /// A loss reduced as r says.
  using Loss::Loss;
  Tensor forward(const Tensor& input, const Tensor& target) const override;
};
/// Cross-entropy from logits: functional::cross_entropy.
class CrossEntropyLoss : public Loss {
 public:
  /// A loss reduced as r says, with the other options' defaults.
  using Loss::Loss;
  /// A loss with all of cross_entropy's options (class weights, ignore_index, label smoothing).
  explicit CrossEntropyLoss(const functional::CrossEntropyOptions& o)
      : Loss(o.reduction), options_(o) {}
  Tensor forward(const Tensor& logits, const Tensor& target) const override;

 private:
  functional::CrossEntropyOptions options_;
};
/// Negative log-likelihood of log-probabilities: functional::nll_loss.
class NLLLoss : public Loss {
 public:
  /// A loss reduced as r says, with the other options' defaults.
  using Loss::Loss;
  /// A loss with all of nll_loss's options (class weights, ignore_index).
  explicit NLLLoss(const functional::NLLLossOptions& o) : Loss(o.reduction), options_(o) {}
  Tensor forward(const Tensor& log_probs, const Tensor& target) const override;

 private:
  functional::NLLLossOptions options_;
};
/// Binary cross-entropy of probabilities: functional::binary_cross_entropy.
class BCELoss : public Loss {
 public:
  /// weight (broadcasting to the input) scales each element's loss; undefined: none.
  explicit BCELoss(Reduction r = Reduction::Mean, Tensor weight = Tensor())
      : Loss(r), weight_(std::move(weight)) {}
  Tensor forward(const Tensor& probs, const Tensor& target) const override;

 private:
  Tensor weight_;
};
/// Binary cross-entropy of logits, stable for any logit:
/// functional::binary_cross_entropy_with_logits.
class BCEWithLogitsLoss : public Loss {
 public:
  /// weight scales each element's loss, pos_weight the positive term; undefined: none.
  explicit BCEWithLogitsLoss(Reduction r = Reduction::Mean, Tensor weight = Tensor(),
                             Tensor pos_weight = Tensor())
      : Loss(r), weight_(std::move(weight)), pos_weight_(std::move(pos_weight)) {}
  Tensor forward(const Tensor& logits, const Tensor& target) const override;

 private:
  Tensor weight_, pos_weight_;
};

/// Huber loss: functional::huber_loss.
class HuberLoss : public Loss {
 public:
  /// delta > 0 and finite (else ValueError): where the loss turns from quadratic to linear.
  explicit HuberLoss(Reduction r = Reduction::Mean, double delta = 1);
  Tensor forward(const Tensor& input, const Tensor& target) const override;

 private:
  double delta_;
};
/// Smooth L1 loss: functional::smooth_l1_loss.
class SmoothL1Loss : public Loss {
 public:
  /// beta >= 0 and finite (else ValueError): where the loss turns from quadratic to linear.
  explicit SmoothL1Loss(Reduction r = Reduction::Mean, double beta = 1);
  Tensor forward(const Tensor& input, const Tensor& target) const override;

 private:
  double beta_;
};
/// Input as log-probabilities; Reduction::BatchMean gives the true divergence.
class KLDivLoss : public Loss {
 public:
  /// log_target: the target is given as log-probabilities too.
  explicit KLDivLoss(Reduction r = Reduction::Mean, bool log_target = false)
      : Loss(r), log_target_(log_target) {}
  Tensor forward(const Tensor& input, const Tensor& target) const override;

 private:
  bool log_target_;
};

}  // namespace tapegrad::nn
