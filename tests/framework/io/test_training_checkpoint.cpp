#include <ATen/ATen.h>
#include <yaml-cpp/yaml.h>

#include "framework/line_regression.hpp"
#include "minitrain/job/config.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/checkpoint.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/core/trainer.hpp"
#include "minitrain/io/training_checkpoint.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::LineDataset;
using minitrain::testing::TempDir;

namespace {

// Its gradients depend on the random generator, so resuming must restore it.
class NoisyLineModule : public minitrain::testing::LineModule {
 public:
  at::Tensor training_step(const Batch& batch, std::int64_t) override {
    const at::Tensor x = batch.field("x") * (1 + 0.1 * at::rand(batch.field("x").sizes()));
    return (linear()(x) - batch.field("y")).pow(2).mean();
  }
};

OptimizerConfig optimizer(const std::string& name, std::span<const ParamSpec> table) {
  Diagnostics diagnostics;
  const char* yaml = name == "sgd" ? "{lr: 0.05, momentum: 0.9}" : "{lr: 0.05}";  // momentum, so sgd has state too
  PluginArgs args = validate_params(YAML::Load(yaml), table, "init_args", JobSource("job.yaml"), diagnostics);
  diagnostics.throw_if_any();
  return {name, args};
}

// Fits for `max_epochs` (resuming from `resume_from` if given) and returns the weights.
at::Tensor fit(std::int64_t max_epochs, const OptimizerConfig& opt, const std::filesystem::path& checkpoint,
               std::optional<std::filesystem::path> resume_from, std::uint64_t seed) {
  at::manual_seed(seed);
  NoisyLineModule module;
  DataLoader loader(std::make_shared<LineDataset>(12), {4, true, false, 5});
  Events events;
  TrainerOptions options{{.max_epochs = max_epochs}};
  options.optimizer = opt;
  options.checkpoint_path = checkpoint;
  if (resume_from) options.resume_from = LoadedCheckpoint{load_pickled(*resume_from), *resume_from};
  Trainer trainer(options, events);
  trainer.fit(module, loader);
  return at::cat({module.linear()->weight.flatten(), module.linear()->bias.flatten()}).detach();
}

}  // namespace

TEST_CASE("a fit stopped after epoch 1 and resumed equals an uninterrupted one, bit for bit") {
  for (const auto& opt : {optimizer("sgd", kSgdParams), optimizer("adam", kAdamParams), optimizer("adamw", kAdamWParams)}) {
    INFO(opt.class_path);
    TempDir dir;
    const at::Tensor whole = fit(3, opt, dir / "whole.pt", std::nullopt, 0);
    fit(1, opt, dir / "part.pt", std::nullopt, 0);
    const at::Tensor resumed = fit(3, opt, dir / "part.pt", dir / "part.pt", /*a different seed: the checkpoint's RNG wins*/ 77);
    CHECK(at::equal(whole, resumed));
    const auto saved = load_pickled(dir / "part.pt").toGenericDict();
    CHECK(saved.at("epochs_done").toTensor().item<std::int64_t>() == 3);
    CHECK(saved.at("global_step").toTensor().item<std::int64_t>() == 9);
  }
}

TEST_CASE("bare weights are not a training checkpoint") {
  TempDir dir;
  minitrain::testing::LineModule module;
  save_weights(module.network(), dir / "w.pt");
  const LoadedCheckpoint weights{load_pickled(dir / "w.pt"), dir / "w.pt"};
  CHECK_FALSE(is_training_checkpoint(weights.value));
  auto opt = torch::optim::SGD(module.network().parameters(), torch::optim::SGDOptions(0.1));
  CHECK_THROWS_WITH_AS(restore_training_checkpoint(weights, module.network(), opt), doctest::Contains("not a training checkpoint"), DataError);
}
