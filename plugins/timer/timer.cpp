#include "timer.hpp"

#include <fmt/format.h>

#include "minitrain/base/error.hpp"

namespace minitrain::plugins {

Timer::Timer(const PluginArgs& args) : max_seconds_(args.number("max_seconds")), per_step_(args.string("interval") == "step") {}

void Timer::connect(Events& events) {
  on(events.fit_start, [this](const FitStart&) { started_ = std::chrono::steady_clock::now(); });
  if (per_step_)
    on(events.train_batch_end, [this, &events](const TrainBatchEnd&) { check(events.control); });
  else
    on(events.train_epoch_end, [this, &events](const TrainEpochEnd&) { check(events.control); });
}

double Timer::elapsed_seconds() const {
  if (!started_) return earlier_seconds_;
  return earlier_seconds_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - *started_).count();
}

void Timer::check(RunControl& control) const {
  const double elapsed = elapsed_seconds();
  if (elapsed >= max_seconds_)
    control.request_stop(fmt::format("timer: the budget of {} s is spent ({:.1f} s)", max_seconds_, elapsed));
}

c10::IValue Timer::state_dict() const {
  c10::impl::GenericDict state(c10::StringType::get(), c10::AnyType::get());
  state.insert("elapsed_seconds", elapsed_seconds());
  return state;
}

void Timer::load_state_dict(const c10::IValue& state) { earlier_seconds_ = state.toGenericDict().at("elapsed_seconds").toDouble(); }

constexpr PluginInfo kTimerInfo = {"timer", "0.1.0", "stops fit after a wall-clock budget", kTimerParams, std::size(kTimerParams)};

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::Timer, minitrain::plugins::kTimerInfo)
