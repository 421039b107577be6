// evaluate(): a model's mean loss and metrics over a whole DataLoader, without recording a tape
// and in evaluation mode (dropout off), leaving the model in the mode it was in.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"
#include "tapegrad/data/dataloader.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/train/record.h"

namespace tapegrad::train {

/// A loss of (model output, target), reduced by the mean over the batch as in training.
using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

/// What evaluate() measures besides the loss.
enum class Metric {
  Accuracy,          ///< share of rows whose largest output is the target class
  TopKAccuracy,      ///< share of rows whose target is among the top_k outputs (ties: by index)
  PerClassAccuracy,  ///< per target class: share of its rows predicted right (recall)
  ConfusionMatrix,   ///< counts, rows: target class, columns: predicted class
  MSE,               ///< mean squared error over every element (regression)
  MAE,               ///< mean absolute error over every element (regression)
};

/// cross_entropy for int64 (class-index) targets, mse_loss otherwise: evaluate's and fit's
/// loss when none is given.
Tensor default_loss(const Tensor& output, const Tensor& target);

/// What evaluate() measures, and how it computes the loss.
struct EvaluateOptions {
  /// Accuracy-type metrics need outputs (N, C) and int64 class targets (N); MSE/MAE need
  /// outputs and targets of one shape. Empty: Accuracy for int64 targets, MSE otherwise.
  std::vector<Metric> metrics = {};
  std::int64_t top_k = 5;  ///< k of TopKAccuracy
  /// Default: cross_entropy for int64 targets, mse_loss otherwise.
  LossFn loss = nullptr;
};

/// What evaluate() returns: the mean loss and the metrics requested (the rest unset or empty).
struct Evaluation {
  double loss = 0;           ///< mean over the samples
  std::int64_t samples = 0;  ///< rows evaluated
  /// Share of rows whose largest output is the target class (Accuracy).
  std::optional<double> accuracy, top_k_accuracy, mse, mae;  ///< mean absolute error (MAE)
  /// \var top_k_accuracy
  /// Share of rows whose target is among the top_k largest outputs (TopKAccuracy).
  /// \var mse
  /// Mean squared error over every element (MSE).
  std::int64_t top_k = 0;  ///< the k of top_k_accuracy (0 when not computed)
  /// Per class; NaN for a class with no samples. Empty unless requested.
  std::vector<double> per_class_accuracy;
  /// confusion[target][predicted]. Empty unless requested.
  std::vector<std::vector<std::int64_t>> confusion;

  /// The scalar results as prefix + "loss", prefix + "accuracy", prefix + "top5_accuracy",
  /// prefix + "mse", prefix + "mae" (those computed), for logs and callbacks.
  Record record(const std::string& prefix = "") const;
};

/// Runs model over every batch of loader under NoGradGuard in eval mode, then restores the
/// model's mode and the loader's epoch counter (so a shuffled loader's order is not advanced).
Evaluation evaluate(nn::Module& model, data::DataLoader& loader,
                    const EvaluateOptions& options = {});

}  // namespace tapegrad::train
