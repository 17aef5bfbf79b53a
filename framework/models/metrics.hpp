#pragma once
// Epoch metrics built from per-batch parts. A batch reports, for each metric,
// a total and a count (loss x samples and samples; correct and seen), so the
// epoch value is an exact mean over samples however the batches were sized.
#include <map>
#include <string>

namespace minitrain {

struct MetricPart {
  double total = 0.0;
  double count = 0.0;
  bool exp_of_mean = false;  // report exp(total / count): perplexity from a cross-entropy
};

// What one step reports, by metric name ("loss", "accuracy", "perplexity").
using StepMetrics = std::map<std::string, MetricPart>;

// Metric values by their logged name ("train_loss", "val_accuracy", ...).
using MetricValues = std::map<std::string, double>;

class MetricAccumulator {
 public:
  void add(const StepMetrics& step);
  // Every metric's epoch value, named prefix + name ("val_" + "loss").
  MetricValues values(const std::string& prefix) const;
  bool empty() const { return parts_.empty(); }
  const StepMetrics& parts() const { return parts_; }

 private:
  StepMetrics parts_;
};

// "train_loss 0.4120, val_loss 0.3911" in name order, for logs.
std::string format_metrics(const MetricValues& values);

// "train_loss, val_loss" (or "none"), for messages about a missing metric.
std::string metric_names(const MetricValues& values);

// Whether `name` is a val_ metric missing only because this epoch did not
// validate (check_val_every_n_epoch > 1): callbacks that monitor it skip such epochs.
bool awaits_validation(const MetricValues& epoch_metrics, const std::string& name);

// Whether `candidate` beats `best` by more than min_delta: lower in mode
// "min", higher in mode "max".
bool improves(double candidate, double best, const std::string& mode, double min_delta = 0.0);

}  // namespace minitrain
