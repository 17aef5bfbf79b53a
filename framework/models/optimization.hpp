#pragma once
// Optimizers and learning-rate schedules named in a job file, LightningCLI's
// way: `optimizer: {class_path: adamw, init_args: {...}}` and
// `lr_scheduler: {class_path: cosine, init_args: {...}}`. A job's optimizer
// replaces the one the module's configure_optimizers would give.
//
// A schedule is a function of the optimizer step alone (a factor applied to
// each parameter group's base lr), so resuming needs nothing but the step.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "minitrain/base/params.hpp"

namespace at {
class Tensor;
}
namespace torch::optim {
class Optimizer;
}

namespace minitrain {

inline constexpr ParamSpec kSgdParams[] = {
    {"lr", ParamType::Float, "0.01", "learning rate", nullptr, above(0)},
    {"momentum", ParamType::Float, "0.0", "momentum factor", nullptr},
    {"nesterov", ParamType::Bool, "false", "Nesterov momentum (needs momentum > 0)", nullptr},
    {"weight_decay", ParamType::Float, "0.0", "L2 penalty", nullptr},
};
inline constexpr ParamSpec kAdamParams[] = {
    {"lr", ParamType::Float, "0.001", "learning rate", nullptr, above(0)},
    {"beta1", ParamType::Float, "0.9", "decay of the first-moment average", nullptr, in_range(0, 1, false, true)},
    {"beta2", ParamType::Float, "0.999", "decay of the second-moment average", nullptr, in_range(0, 1, false, true)},
    {"eps", ParamType::Float, "1.0e-8", "added to the denominator", nullptr},
    {"weight_decay", ParamType::Float, "0.0", "L2 penalty", nullptr},
};
inline constexpr ParamSpec kAdamWParams[] = {
    {"lr", ParamType::Float, "0.001", "learning rate", nullptr, above(0)},
    {"beta1", ParamType::Float, "0.9", "decay of the first-moment average", nullptr, in_range(0, 1, false, true)},
    {"beta2", ParamType::Float, "0.999", "decay of the second-moment average", nullptr, in_range(0, 1, false, true)},
    {"eps", ParamType::Float, "1.0e-8", "added to the denominator", nullptr},
    {"weight_decay", ParamType::Float, "0.01", "decoupled weight decay", nullptr},
};
inline constexpr const char* kOptimizerNames = "sgd|adam|adamw";

inline constexpr ParamSpec kConstantScheduleParams[] = {
    {"warmup_steps", ParamType::Int, "0", "steps of linear warm-up from 0 to the base lr", nullptr, at_least(0)},
};
inline constexpr ParamSpec kStepScheduleParams[] = {
    {"warmup_steps", ParamType::Int, "0", "steps of linear warm-up from 0 to the base lr", nullptr, at_least(0)},
    {"step_size", ParamType::Int, nullptr, "optimizer steps between decays", nullptr, at_least(1)},
    {"gamma", ParamType::Float, "0.1", "factor applied every step_size steps", nullptr},
};
inline constexpr ParamSpec kCosineScheduleParams[] = {
    {"warmup_steps", ParamType::Int, "0", "steps of linear warm-up from 0 to the base lr", nullptr, at_least(0)},
    {"total_steps", ParamType::Int, "null", "steps of the whole schedule (null: every optimizer step of the fit)", nullptr, at_least(1)},
    {"min_lr_ratio", ParamType::Float, "0.0", "the lr at the end, as a fraction of the base lr", nullptr, in_range(0, 1)},
};
inline constexpr const char* kScheduleNames = "constant|step|cosine";

// The parameter table of an optimizer or schedule class; empty for an unknown name.
std::span<const ParamSpec> optimizer_params(const std::string& class_path);
std::span<const ParamSpec> schedule_params(const std::string& class_path);

// Arguments in range but not fitting together (nesterov without momentum);
// empty when all is well. Ranges are in the tables above.
std::vector<ArgProblem> optimizer_arg_problems(const std::string& class_path, const PluginArgs& args);

struct OptimizerConfig {
  std::string class_path;  // sgd | adam | adamw
  PluginArgs init_args;
};

struct ScheduleConfig {
  std::string class_path;  // constant | step | cosine
  PluginArgs init_args;
};

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config, const std::vector<at::Tensor>& parameters);

// The lr factor (of each group's base lr) for optimizer step `step` (0-based),
// in a fit of `total_steps` optimizer steps.
using LrSchedule = std::function<double(std::int64_t step)>;
LrSchedule make_lr_schedule(const ScheduleConfig& config, std::int64_t total_steps);

}  // namespace minitrain
