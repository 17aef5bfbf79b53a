#include "minitrain/models/optimization.hpp"

#include <fmt/format.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cmath>

#include "minitrain/base/error.hpp"

namespace minitrain {

std::span<const ParamSpec> optimizer_params(const std::string& class_path) {
  if (class_path == "sgd") return kSgdParams;
  if (class_path == "adam") return kAdamParams;
  if (class_path == "adamw") return kAdamWParams;
  return {};
}

std::span<const ParamSpec> schedule_params(const std::string& class_path) {
  if (class_path == "constant") return kConstantScheduleParams;
  if (class_path == "step") return kStepScheduleParams;
  if (class_path == "cosine") return kCosineScheduleParams;
  return {};
}

std::vector<ArgProblem> optimizer_arg_problems(const std::string& class_path, const PluginArgs& args) {
  std::vector<ArgProblem> problems;
  if (class_path == "sgd" && args.has("nesterov") && args.boolean("nesterov") && args.has("momentum") &&
      !(args.number("momentum") > 0))
    problems.push_back({"nesterov", "needs momentum above 0"});
  return problems;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config, const std::vector<at::Tensor>& parameters) {
  const PluginArgs& a = config.init_args;
  if (config.class_path == "sgd")
    return std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(a.number("lr")).momentum(a.number("momentum")).nesterov(a.boolean("nesterov")).weight_decay(a.number("weight_decay")));
  if (config.class_path == "adam")
    return std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(a.number("lr")).betas({a.number("beta1"), a.number("beta2")}).eps(a.number("eps")).weight_decay(a.number("weight_decay")));
  if (config.class_path == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        parameters, torch::optim::AdamWOptions(a.number("lr")).betas({a.number("beta1"), a.number("beta2")}).eps(a.number("eps")).weight_decay(a.number("weight_decay")));
  throw ConfigError(fmt::format("optimizer.class_path: unknown optimizer '{}'; expected one of sgd, adam, adamw", config.class_path));
}

LrSchedule make_lr_schedule(const ScheduleConfig& config, std::int64_t total_steps) {
  const PluginArgs& a = config.init_args;
  const std::int64_t warmup = a.integer("warmup_steps");
  // Linear warm-up reaches the base lr at step `warmup`; the decay starts counting there.
  auto warmed = [warmup](std::int64_t step, double after) {
    return step < warmup ? static_cast<double>(step + 1) / static_cast<double>(warmup + 1) : after;
  };
  if (config.class_path == "constant") return [warmed](std::int64_t step) { return warmed(step, 1.0); };
  if (config.class_path == "step") {
    const std::int64_t step_size = a.integer("step_size");
    const double gamma = a.number("gamma");
    return [=](std::int64_t step) {
      return warmed(step, std::pow(gamma, static_cast<double>((step - warmup) / step_size)));
    };
  }
  if (config.class_path == "cosine") {
    const std::int64_t total = a.has("total_steps") ? a.integer("total_steps") : total_steps;
    const double floor = a.number("min_lr_ratio");
    return [=](std::int64_t step) {
      const double span = static_cast<double>(std::max<std::int64_t>(total - warmup, 1));
      const double progress = std::clamp(static_cast<double>(step - warmup) / span, 0.0, 1.0);
      return warmed(step, floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(M_PI * progress)));
    };
  }
  throw ConfigError(fmt::format("lr_scheduler.class_path: unknown schedule '{}'; expected one of constant, step, cosine", config.class_path));
}

}  // namespace minitrain
