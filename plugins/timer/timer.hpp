#pragma once
// Timer: stops fit once a wall-clock budget is spent, as Lightning's Timer.
// Checked after every batch (interval: step) or every epoch (interval: epoch);
// the time already spent is kept in training checkpoints, so a resumed fit
// goes on with what is left of the budget.
#include <chrono>
#include <optional>
#include <vector>

#include "minitrain/core/callback.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace minitrain::plugins {

inline constexpr ParamSpec kTimerParams[] = {
    {"max_seconds", ParamType::Float, nullptr, "the fit's wall-clock budget, in seconds", nullptr, above(0)},
    {"interval", ParamType::Enum, "step", "check after every batch or after every epoch", "step|epoch"},
};

class Timer : public Callback {
 public:
  explicit Timer(const PluginArgs& args);
  void connect(Events& events) override;
  c10::IValue state_dict() const override;
  void load_state_dict(const c10::IValue& state) override;
  double elapsed_seconds() const;

 private:
  void check(RunControl& control) const;

  double max_seconds_;
  bool per_step_;
  double earlier_seconds_ = 0.0;  // spent by the fit this one resumed
  std::optional<std::chrono::steady_clock::time_point> started_;
};

}  // namespace minitrain::plugins
