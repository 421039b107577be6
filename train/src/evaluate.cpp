// evaluate(): losses on the tape's ops, metrics counted on the host from each batch's outputs.
#include "tapegrad/train/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/nn/functional.h"

namespace tapegrad::train {
namespace {

bool wants(const EvaluateOptions& o, Metric m) {
  return std::find(o.metrics.begin(), o.metrics.end(), m) != o.metrics.end();
}

// Puts the model back in the mode it had, also when a batch throws.
class ModeGuard {
 public:
  explicit ModeGuard(nn::Module& m) : module_(m), training_(m.is_training()) { m.eval(); }
  ~ModeGuard() { module_.train(training_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  nn::Module& module_;
  bool training_;
};

// Running counts over the batches; turned into an Evaluation at the end.
struct Counts {
  double loss_sum = 0, squared_sum = 0, absolute_sum = 0;
  std::int64_t samples = 0, elements = 0, correct = 0, top_k_correct = 0, classes = 0;
  std::vector<std::vector<std::int64_t>> confusion;
};

void count_classes(const EvaluateOptions& o, const Tensor& out, const Tensor& y, Counts& c) {
  if (out.dim() != 2 || y.dtype() != kInt64 || y.dim() != 1 || y.size(0) != out.size(0))
    throw ValueError(
        msg("evaluate: accuracy metrics need outputs (N, C) and int64 class targets "
            "(N); got outputs ",
            shape_str(out.shape()), " and targets ", shape_str(y.shape()), " of ",
            dtype_name(y.dtype()), " (for regression ask for Metric::MSE or MAE)"));
  const std::int64_t n = out.size(0), k = out.size(1);
  if (c.classes == 0) {
    c.classes = k;
    c.confusion.assign(static_cast<std::size_t>(k), std::vector<std::int64_t>(k));
  } else if (k != c.classes) {
    throw ShapeError(msg("evaluate: a batch has ", k, " output columns, earlier ones ", c.classes));
  }
  const std::vector<double> v = out.to(kFloat64).to_vector<double>();
  const std::vector<std::int64_t> target = y.to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t t = target[static_cast<std::size_t>(i)];
    if (t < 0 || t >= k)
      throw ValueError(msg("evaluate: target ", t, " in row ", i, " is not a class of the ", k,
                           " output columns"));
    const double* row = v.data() + i * k;
    // argmax as tapegrad::argmax: the first of equal maxima.
    const std::int64_t pred = std::max_element(row, row + k) - row;
    c.correct += pred == t;
    ++c.confusion[static_cast<std::size_t>(t)][static_cast<std::size_t>(pred)];
    if (wants(o, Metric::TopKAccuracy)) {
      // The target's rank in the order argmax uses (larger first, ties by smaller index), so
      // that top-1 accuracy is accuracy.
      std::int64_t rank = 0;
      for (std::int64_t j = 0; j < k; ++j) rank += row[j] > row[t] || (row[j] == row[t] && j < t);
      c.top_k_correct += rank < o.top_k;
    }
  }
}

void count_errors(const Tensor& out, const Tensor& y, Counts& c) {
  if (out.shape() != y.shape())
    throw ShapeError(msg("evaluate: MSE/MAE need outputs and targets of one shape; got ",
                         shape_str(out.shape()), " and ", shape_str(y.shape())));
  const std::vector<double> a = out.to(kFloat64).to_vector<double>(),
                            b = y.to(kFloat64).to_vector<double>();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = a[i] - b[i];
    c.squared_sum += d * d;
    c.absolute_sum += std::abs(d);
  }
  c.elements += static_cast<std::int64_t>(a.size());
}

}  // namespace

Tensor default_loss(const Tensor& output, const Tensor& target) {
  return target.dtype() == kInt64 ? nn::functional::cross_entropy(output, target)
                                  : nn::functional::mse_loss(output, target);
}

Evaluation evaluate(nn::Module& model, data::DataLoader& loader, const EvaluateOptions& options) {
  EvaluateOptions o = options;
  if (wants(o, Metric::TopKAccuracy) && o.top_k < 1)
    throw ValueError(msg("evaluate: top_k must be >= 1, got ", o.top_k));
  bool classes = false, errors = false;

  NoGradGuard no_grad;
  ModeGuard mode(model);
  const std::int64_t epoch = loader.epoch();
  Counts c;
  for (auto& [x, y] : loader) {
    if (c.samples == 0) {
      // No metrics asked for: the targets' dtype (every batch shares it) decides.
      if (o.metrics.empty()) o.metrics = {y.dtype() == kInt64 ? Metric::Accuracy : Metric::MSE};
      classes = wants(o, Metric::Accuracy) || wants(o, Metric::TopKAccuracy) ||
                wants(o, Metric::PerClassAccuracy) || wants(o, Metric::ConfusionMatrix);
      errors = wants(o, Metric::MSE) || wants(o, Metric::MAE);
    }
    const Tensor out = model(x);
    const Tensor loss = o.loss ? o.loss(out, y) : default_loss(out, y);
    if (loss.numel() != 1)
      throw ValueError(msg("evaluate: the loss must be one number (mean over the batch); got ",
                           shape_str(loss.shape())));
    const std::int64_t n = x.dim() > 0 ? x.size(0) : 1;
    c.loss_sum += loss.item() * static_cast<double>(n);
    c.samples += n;
    if (classes) count_classes(o, out, y, c);
    if (errors) count_errors(out, y, c);
  }
  loader.set_epoch(epoch);

  Evaluation r;
  r.samples = c.samples;
  const double n = static_cast<double>(c.samples);
  r.loss = c.loss_sum / n;
  if (wants(o, Metric::Accuracy)) r.accuracy = static_cast<double>(c.correct) / n;
  if (wants(o, Metric::TopKAccuracy)) {
    r.top_k = o.top_k;
    r.top_k_accuracy = static_cast<double>(c.top_k_correct) / n;
  }
  if (wants(o, Metric::PerClassAccuracy))
    for (std::size_t k = 0; k < c.confusion.size(); ++k) {
      std::int64_t total = 0;
      for (std::int64_t v : c.confusion[k]) total += v;
      r.per_class_accuracy.push_back(total ? static_cast<double>(c.confusion[k][k]) /
                                                 static_cast<double>(total)
                                           : std::numeric_limits<double>::quiet_NaN());
    }
  if (wants(o, Metric::ConfusionMatrix)) r.confusion = std::move(c.confusion);
  const double e = static_cast<double>(c.elements);
  if (wants(o, Metric::MSE)) r.mse = c.squared_sum / e;
  if (wants(o, Metric::MAE)) r.mae = c.absolute_sum / e;
  return r;
}

Record Evaluation::record(const std::string& prefix) const {
  Record r;
  r.set(prefix + "loss", loss);
  if (accuracy) r.set(prefix + "accuracy", *accuracy);
  if (top_k_accuracy) r.set(msg(prefix, "top", top_k, "_accuracy"), *top_k_accuracy);
  if (mse) r.set(prefix + "mse", *mse);
  if (mae) r.set(prefix + "mae", *mae);
  return r;
}

}  // namespace tapegrad::train
