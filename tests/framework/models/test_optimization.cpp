#include <ATen/ATen.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fmt/format.h>

#include "framework/line_regression.hpp"
#include "minitrain/job/config.hpp"
#include "minitrain/models/optimization.hpp"
#include "minitrain/core/trainer.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::LineDataset;
using minitrain::testing::LineModule;

namespace {

PluginArgs args_for(std::span<const ParamSpec> table, const std::string& yaml) {
  Diagnostics diagnostics;
  PluginArgs args = validate_params(YAML::Load(yaml), table, "init_args", JobSource("job.yaml"), diagnostics);
  diagnostics.throw_if_any();
  return args;
}

OptimizerConfig sgd(double lr) { return {"sgd", args_for(kSgdParams, fmt::format("{{lr: {}}}", lr))}; }

// Trains a fresh LineModule (same initial weights every time) and returns its weight and bias.
at::Tensor train(std::int64_t batch_size, TrainerOptions options) {
  at::manual_seed(0);
  LineModule module;
  DataLoader loader(std::make_shared<LineDataset>(8), {batch_size, false, false, 0});
  Events events;
  Trainer trainer(std::move(options), events);
  trainer.fit(module, loader);
  return at::cat({module.linear()->weight.flatten(), module.linear()->bias.flatten()}).detach();
}

}  // namespace

TEST_CASE("schedules: warm-up, step decay and cosine, as factors of the base lr") {
  const auto constant = make_lr_schedule({"constant", args_for(kConstantScheduleParams, "{warmup_steps: 3}")}, 100);
  CHECK(constant(0) == doctest::Approx(0.25));
  CHECK(constant(2) == doctest::Approx(0.75));
  CHECK(constant(3) == doctest::Approx(1.0));
  CHECK(constant(50) == doctest::Approx(1.0));

  const auto step = make_lr_schedule({"step", args_for(kStepScheduleParams, "{step_size: 10, gamma: 0.5}")}, 100);
  CHECK(step(9) == doctest::Approx(1.0));
  CHECK(step(10) == doctest::Approx(0.5));
  CHECK(step(25) == doctest::Approx(0.25));

  const auto cosine = make_lr_schedule({"cosine", args_for(kCosineScheduleParams, "{warmup_steps: 10, min_lr_ratio: 0.1}")}, 110);
  CHECK(cosine(4) == doctest::Approx(5.0 / 11));
  CHECK(cosine(10) == doctest::Approx(1.0));
  CHECK(cosine(60) == doctest::Approx(0.55));  // half way: floor + (1 - floor) / 2
  CHECK(cosine(110) == doctest::Approx(0.1));
  CHECK(cosine(500) == doctest::Approx(0.1));
}

TEST_CASE("optimizers from a job: sgd, adam and adamw train the model") {
  for (const auto& [name, table] : {std::pair{"sgd", std::span<const ParamSpec>(kSgdParams)},
                                    std::pair{"adam", std::span<const ParamSpec>(kAdamParams)},
                                    std::pair{"adamw", std::span<const ParamSpec>(kAdamWParams)}}) {
    INFO(name);
    TrainerOptions options{{.max_epochs = 30}};
    options.optimizer = OptimizerConfig{name, args_for(table, "{lr: 0.05}")};
    const at::Tensor fitted = train(4, options);
    // y = 3x + 1: the fit moves towards weight 3, bias 1.
    CHECK(fitted[1].item<double>() == doctest::Approx(1.0).epsilon(0.5));
  }
  CHECK_THROWS_AS(make_optimizer({"lion", {}}, {}), ConfigError);
}

TEST_CASE("accumulating 2 batches of 2 equals 1 batch of 4") {
  TrainerOptions accumulated{{.max_epochs = 3}};
  accumulated.optimizer = sgd(0.3);
  accumulated.accumulate_grad_batches = 2;
  TrainerOptions whole{{.max_epochs = 3}};
  whole.optimizer = sgd(0.3);
  const at::Tensor a = train(2, accumulated);
  const at::Tensor b = train(4, whole);
  CHECK(at::allclose(a, b, 1e-6, 1e-6));
  TrainerOptions plain{{.max_epochs = 3}};
  plain.optimizer = sgd(0.3);
  CHECK_FALSE(at::allclose(train(2, plain), b, 1e-6, 1e-6));  // without accumulation it differs
}

TEST_CASE("gradient clipping bounds each step; a schedule scales the lr") {
  const at::Tensor start = train(8, {{.max_epochs = 1, .limit_train_batches = 0}});
  TrainerOptions clipped{{.max_epochs = 1}};
  clipped.optimizer = sgd(1.0);
  clipped.gradient_clip_val = 0.001;
  CHECK((train(8, clipped) - start).norm().item<double>() <= doctest::Approx(0.001));

  TrainerOptions warming{{.max_epochs = 1}};
  warming.optimizer = sgd(1.0);
  warming.lr_scheduler = ScheduleConfig{"constant", args_for(kConstantScheduleParams, "{warmup_steps: 999999}")};
  TrainerOptions unscheduled{{.max_epochs = 1}};
  unscheduled.optimizer = sgd(1.0);
  const double moved_warming = (train(8, warming) - start).norm().item<double>();
  const double moved_plain = (train(8, unscheduled) - start).norm().item<double>();
  CHECK(moved_warming == doctest::Approx(moved_plain / 1000000).epsilon(0.01));
}

TEST_CASE("optimizer and lr_scheduler sections are checked like the rest of the job") {
  minitrain::testing::TempDir dir;
  Diagnostics diagnostics;
  const JobConfig job = load_job_config(minitrain::testing::write_file(dir / "job.yaml", R"(trainer: {accumulate_grad_batches: 0, gradient_clip_val: 1.5}
model: {class_path: protein_encoder}
data: {train: {fasta: a.fa}}
optimizer:
  class_path: sgd
  init_args: {lr: 0.1, nesterov: true}
lr_scheduler:
  class_path: cosin
)"),
                                        {}, diagnostics);
  const std::string text = diagnostics.format();
  INFO(text);
  CHECK(diagnostics.items().size() == 3);
  CHECK(text.find(":1:36: error: trainer.accumulate_grad_batches: must be at least 1, got 0") != std::string::npos);
  CHECK(text.find(":6:34: error: optimizer.init_args.nesterov: needs momentum above 0") != std::string::npos);
  CHECK(text.find(":8:15: error: lr_scheduler.class_path: expected one of constant, step, cosine, got 'cosin' (did you mean cosine?)") != std::string::npos);
  CHECK(job.trainer.gradient_clip_val == 1.5);
  REQUIRE(job.optimizer.has_value());
  CHECK(job.optimizer->init_args.number("lr") == doctest::Approx(0.1));
  CHECK(job.optimizer->init_args.number("momentum") == 0.0);  // default
}
