#pragma once
// EarlyStopping: stops fit when a monitored metric has stopped improving, as
// Lightning's EarlyStopping. Checked at every train_epoch_end that carries the
// metric (with check_val_every_n_epoch > 1, epochs without validation are
// skipped); `patience` such checks without an improvement of more than
// min_delta stop the fit after that epoch. Its count and best value are kept
// in training checkpoints, so a resumed fit stops where the whole one would.
#include <limits>
#include <optional>
#include <string>

#include "minitrain/core/callback.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace minitrain::plugins {

inline constexpr ParamSpec kEarlyStoppingParams[] = {
    {"monitor", ParamType::String, "val_loss", "the metric to watch (train_loss, val_loss, val_accuracy, ...)", nullptr},
    {"min_delta", ParamType::Float, "0.0", "an improvement must be larger than this", nullptr},
    {"patience", ParamType::Int, "3", "checks without improvement before stopping", nullptr, at_least(0)},
    {"mode", ParamType::Enum, "min", "min: lower is better; max: higher is better", "min|max"},
    {"check_finite", ParamType::Bool, "true", "stop at once when the metric is NaN or infinite", nullptr},
    {"strict", ParamType::Bool, "true", "fail when an epoch that validated lacks the metric", nullptr},
};

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(const PluginArgs& args);
  void connect(Events& events) override;
  c10::IValue state_dict() const override;
  void load_state_dict(const c10::IValue& state) override;

 private:
  // Checks the epoch's metric, asking for a stop when it is time; what it decided, if it checked.
  std::optional<EarlyStoppingCheck> check(const TrainEpochEnd& epoch, RunControl& control);

  std::string monitor_;
  double min_delta_;
  std::int64_t patience_;
  std::string mode_;
  bool check_finite_;
  bool strict_;
  double best_;
  std::int64_t wait_ = 0;
};

}  // namespace minitrain::plugins
