// TorchScript models as minitrain Modules, built here with Module::define.
#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/nn/module.h>
#include <yaml-cpp/yaml.h>

#include "minitrain/job/config.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/models/scripted_module.hpp"
#include "minitrain/data/synthetic_dataset.hpp"
#include "minitrain/core/trainer.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;

namespace {

// A linear classifier from 4 features to 3 classes, its layer a submodule
// named "head", as nn.Linear would be in Python.
torch::jit::Module classifier() {
  torch::jit::Module head("Head");
  head.register_parameter("weight", (at::randn({3, 4}) * 0.1).set_requires_grad(true), false);
  head.register_parameter("bias", at::zeros({3}).set_requires_grad(true), false);
  head.define(R"(
def forward(self, x):
    return torch.matmul(x, self.weight.t()) + self.bias
)");
  torch::jit::Module model("Classifier");
  model.register_module("head", head);
  model.define(R"(
def forward(self, x):
    return self.head.forward(x)
)");
  return model;
}

// Saves `script` and loads it back through the job-file path.
std::unique_ptr<Module> load(const TempDir& dir, torch::jit::Module script, const std::string& model_yaml) {
  const std::filesystem::path file = dir / "model.pt";
  script.save(file.string());
  Diagnostics diagnostics;
  YAML::Node node = YAML::Load(model_yaml);
  node["torchscript"] = file.string();
  if (!node["inputs"]) node["inputs"] = StringList{"features"};  // what a job on synthetic data chooses
  const PluginArgs args = validate_params(node, kScriptedModuleParams, "model", JobSource("job.yaml"), diagnostics);
  REQUIRE_MESSAGE(diagnostics.empty(), diagnostics.format());
  return load_scripted_module(args);
}

Batch synthetic_batch(std::int64_t n, std::int64_t classes) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  return SyntheticDataset(n, 4, classes, 3).get_batch(rows);
}

}  // namespace

TEST_CASE("a TorchScript classifier trains with cross_entropy and reports accuracy") {
  TempDir dir;
  at::manual_seed(0);
  auto module = load(dir, classifier(), "{loss: cross_entropy}");
  std::vector<std::string> names;
  for (const auto& item : module->network().named_parameters()) names.push_back(item.key());
  CHECK(names == std::vector<std::string>{"head.weight", "head.bias"});

  DataLoader train(std::make_shared<SyntheticDataset>(512, 4, 3, 3), {32, true});
  DataLoader val(std::make_shared<SyntheticDataset>(256, 4, 3, 3), {64});
  Events events;
  TrainerOptions options{{.max_epochs = 5}};
  Diagnostics diagnostics;
  options.optimizer = OptimizerConfig{"adam", validate_params(YAML::Load("{lr: 0.05}"), kAdamParams, "optimizer.init_args",
                                                             JobSource("job.yaml"), diagnostics)};
  MetricValues first, last;
  boost::signals2::scoped_connection watch = events.train_epoch_end.connect([&](const TrainEpochEnd& e) {
    if (e.epoch == 0) first = e.metrics;
    last = e.metrics;
  });
  Trainer(options, events).fit(*module, train, &val);
  CHECK(last.at("val_loss") < first.at("val_loss"));
  CHECK(last.at("val_accuracy") > 0.9);  // a linear teacher, learnt by a linear model
}

TEST_CASE("the network's parameters are the script's own tensors, and train/eval reach the script") {
  TempDir dir;
  torch::jit::Module script("ModeAware");
  script.register_parameter("scale", at::ones({1}).set_requires_grad(true), false);
  script.register_attribute("training", c10::BoolType::get(), true);  // Python's modules have it; Module::define's do not
  script.define(R"(
def forward(self, x):
    if self.training:
        return x * self.scale + 100.0
    return x * self.scale
)");
  auto module = load(dir, script, "{inputs: [features]}");
  const Batch batch = synthetic_batch(2, 2);
  {
    torch::NoGradGuard no_grad;
    module->network().named_parameters()["scale"].fill_(2.0);
  }
  module->network().eval();
  const at::Tensor out = module->predict_step(batch, 0).toGenericDict().at("prediction").toTensor();
  CHECK(at::allclose(out, batch.field("features") * 2));
  module->network().train();
  CHECK(module->predict_step(batch, 0).toGenericDict().at("prediction").toTensor().min().item<double>() > 90);
}

TEST_CASE("predict writes a dict whatever forward returns") {
  TempDir dir;
  const Batch batch = synthetic_batch(3, 2);
  auto outputs_of = [&](const std::string& body) {
    torch::jit::Module script("Out");
    script.define("def forward(self, x):\n    " + body + "\n");
    const auto out = load(dir, script, "{}")->predict_step(batch, 0).toGenericDict();
    std::vector<std::string> keys;
    for (const auto& item : out) keys.push_back(item.key().toStringRef());
    return keys;
  };
  CHECK(outputs_of("return x") == std::vector<std::string>{"prediction"});
  CHECK(outputs_of("return (x, x.sum(1))") == std::vector<std::string>{"output_0", "output_1"});
  CHECK(outputs_of("return [x, x]") == std::vector<std::string>{"output_0", "output_1"});
  CHECK(outputs_of("return {'emb': x, 'score': x.sum(1)}") == std::vector<std::string>{"emb", "score"});
}

TEST_CASE("mse and the module's own loss") {
  TempDir dir;
  const Batch batch = synthetic_batch(8, 0);  // regression targets [8, 1]
  torch::jit::Module mean_of("MeanOf");
  mean_of.define("def forward(self, x):\n    return x.mean(1)\n");  // [8]: as many elements as the target
  const at::Tensor mse = load(dir, mean_of, "{loss: mse}")->training_step(batch, 0);
  const at::Tensor expected = (batch.field("features").mean(1) - batch.field("targets").view({8})).pow(2).mean();
  CHECK(at::allclose(mse, expected));

  torch::jit::Module own("OwnLoss");
  own.define(R"(
def forward(self, x, y):
    return {'loss': (x.sum(1, keepdim=True) - y).abs().mean(), 'other': x}
)");
  const at::Tensor loss = load(dir, own, "{loss: module}")->training_step(batch, 0);
  CHECK(at::allclose(loss, (batch.field("features").sum(1, true) - batch.field("targets")).abs().mean()));
}

TEST_CASE("TorchScript problems are explained") {
  TempDir dir;
  const Batch batch = synthetic_batch(4, 2);
  CHECK_THROWS_WITH_AS(load(dir, classifier(), "{}")->training_step(batch, 0),
                       doctest::Contains("model.loss is not set; fit and validate need cross_entropy, mse or module"), ConfigError);
  CHECK_THROWS_WITH_AS(load(dir, classifier(), "{inputs: [pixels]}")->predict_step(batch, 0),
                       "the batch has no field 'pixels'; it has: features, targets", Error);
  torch::jit::Module two("Two");
  two.define("def forward(self, x):\n    return x[:, :2]\n");
  const Batch regression = synthetic_batch(4, 0);
  CHECK_THROWS_WITH_AS(load(dir, two, "{loss: cross_entropy}")->training_step(regression, 0),
                       doctest::Contains("the target holds fractions"), Error);
  CHECK_THROWS_WITH_AS(load(dir, two, "{loss: mse}")->training_step(regression, 0),
                       doctest::Contains("mse: forward returned [4, 2] but the target is [4, 1]"), Error);
  CHECK_THROWS_WITH_AS(load(dir, two, "{loss: module}")->training_step(regression, 0),
                       doctest::Contains("the TorchScript forward failed on inputs (features, targets)"), Error);

  Diagnostics diagnostics;
  const PluginArgs missing = validate_params(YAML::Load("{torchscript: /nonexistent.pt}"), kScriptedModuleParams, "model",
                                             JobSource("job.yaml"), diagnostics);
  CHECK_THROWS_WITH_AS(load_scripted_module(missing), doctest::Contains("/nonexistent.pt: error: TorchScript file not found"), DataError);
  const auto junk = minitrain::testing::write_file(dir / "junk.pt", "not a model");
  const PluginArgs corrupt = validate_params(YAML::Load("{torchscript: " + junk.string() + "}"), kScriptedModuleParams,
                                             "model", JobSource("job.yaml"), diagnostics);
  CHECK_THROWS_WITH_AS(load_scripted_module(corrupt), doctest::Contains("error: not a TorchScript file ("), DataError);
}
