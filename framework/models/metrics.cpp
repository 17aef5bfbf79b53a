#include "minitrain/models/metrics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace minitrain {

void MetricAccumulator::add(const StepMetrics& step) {
  for (const auto& [name, part] : step) {
    MetricPart& sum = parts_[name];
    sum.total += part.total;
    sum.count += part.count;
    sum.exp_of_mean = part.exp_of_mean;
  }
}

MetricValues MetricAccumulator::values(const std::string& prefix) const {
  MetricValues out;
  for (const auto& [name, part] : parts_) {
    const double mean = part.count > 0 ? part.total / part.count : std::numeric_limits<double>::quiet_NaN();
    out[prefix + name] = part.exp_of_mean ? std::exp(mean) : mean;
  }
  return out;
}

std::string format_metrics(const MetricValues& values) {
  std::string out;
  for (const auto& [name, value] : values) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {:.4f}", name, value);
  }
  return out;
}

std::string metric_names(const MetricValues& values) {
  std::string out;
  for (const auto& [name, value] : values) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

bool awaits_validation(const MetricValues& epoch_metrics, const std::string& name) {
  if (name.rfind("val_", 0) != 0 || epoch_metrics.count(name)) return false;
  for (const auto& [metric, value] : epoch_metrics)
    if (metric.rfind("val_", 0) == 0) return false;
  return true;
}

bool improves(double candidate, double best, const std::string& mode, double min_delta) {
  return mode == "max" ? candidate > best + min_delta : candidate < best - min_delta;
}

}  // namespace minitrain
