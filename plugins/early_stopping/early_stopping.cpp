#include "early_stopping.hpp"

#include <fmt/format.h>

#include <cmath>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"

namespace minitrain::plugins {

EarlyStopping::EarlyStopping(const PluginArgs& args)
    : monitor_(args.string("monitor")),
      min_delta_(std::abs(args.number("min_delta"))),
      patience_(args.integer("patience")),
      mode_(args.string("mode")),
      check_finite_(args.boolean("check_finite")),
      strict_(args.boolean("strict")),
      best_(mode_ == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity()) {}

void EarlyStopping::connect(Events& events) {
  on(events.train_epoch_end, [this, &events](const TrainEpochEnd& e) {
    if (const std::optional<EarlyStoppingCheck> checked = check(e, events.control)) events.early_stopping_check(*checked);
  });
}

std::optional<EarlyStoppingCheck> EarlyStopping::check(const TrainEpochEnd& epoch, RunControl& control) {
  const auto found = epoch.metrics.find(monitor_);
  if (found == epoch.metrics.end()) {
    if (awaits_validation(epoch.metrics, monitor_) || !strict_) return std::nullopt;
    throw Error(fmt::format("early_stopping: monitor '{}' is not among the metrics of epoch {} ({}); set monitor to one "
                            "of them, or add a data.val section for val_ metrics",
                            monitor_, epoch.epoch, metric_names(epoch.metrics)));
  }
  const double value = found->second;
  std::string stop;
  if (check_finite_ && !std::isfinite(value)) {
    stop = fmt::format("early_stopping: {} is {} at epoch {}", monitor_, value, epoch.epoch);
  } else if (improves(value, best_, mode_, min_delta_)) {
    best_ = value;
    wait_ = 0;
  } else if (++wait_ >= patience_) {
    stop = fmt::format("early_stopping: {} has not improved by more than {} for {} check(s) (best {:.6g})", monitor_,
                       min_delta_, wait_, best_);
  }
  if (!stop.empty()) control.request_stop(stop);
  return EarlyStoppingCheck{epoch.epoch, monitor_, value, best_, wait_, patience_, stop};
}

c10::IValue EarlyStopping::state_dict() const {
  c10::impl::GenericDict state(c10::StringType::get(), c10::AnyType::get());
  state.insert("best", best_);
  state.insert("wait", wait_);
  return state;
}

void EarlyStopping::load_state_dict(const c10::IValue& state) {
  const auto dict = state.toGenericDict();
  best_ = dict.at("best").toDouble();
  wait_ = dict.at("wait").toInt();
}

constexpr PluginInfo kEarlyStoppingInfo = {"early_stopping", "0.1.0",
                                           "stops fit when a monitored metric stops improving",
                                           kEarlyStoppingParams, std::size(kEarlyStoppingParams)};

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::EarlyStopping, minitrain::plugins::kEarlyStoppingInfo)
