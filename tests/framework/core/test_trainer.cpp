#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <numeric>

#include "framework/line_regression.hpp"
#include "framework/spy_callback.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/core/trainer.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::LineDataset;
using minitrain::testing::LineModule;
using minitrain::testing::SpyCallback;

namespace {

// A Trainer over LineDataset with a spy listening to every event.
struct Harness {
  Harness(std::int64_t samples, DataLoaderOptions loader_options, TrainerOptions trainer_options = {})
      : loader(std::make_shared<LineDataset>(samples), loader_options),
        val_loader(std::make_shared<LineDataset>(samples), {4}),
        trainer(trainer_options, events) {
    spy.connect(events);
  }
  DataLoader loader;
  DataLoader val_loader;
  LineModule module;
  Events events;
  SpyCallback spy;
  Trainer trainer;
};

std::vector<std::string> repeat(std::vector<std::string> block, int times) {
  std::vector<std::string> out;
  for (int i = 0; i < times; ++i) out.insert(out.end(), block.begin(), block.end());
  return out;
}

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("fit emits every event in Lightning's order and trains") {
  Harness h(10, {4, true, false, 7}, {{.max_epochs = 2}});
  auto& [loader, val_loader, module, events, spy, trainer] = h;

  const at::Tensor before = module.training_step(loader.batch(0), 0).detach();
  trainer.fit(module, loader);
  const at::Tensor after = module.training_step(loader.batch(0), 0).detach();

  const auto epoch = concat({{"train_epoch_start"}, repeat({"train_batch_start", "train_batch_end"}, 3), {"train_epoch_end"}});
  CHECK(spy.events == concat({{"setup:fit", "fit_start"}, repeat(epoch, 2), {"fit_end", "teardown:fit"}}));
  CHECK(trainer.global_step() == 6);
  CHECK(after.item<double>() < before.item<double>());
  // Every sample is trained on once per epoch, shuffled or not.
  std::vector<std::int64_t> seen = spy.trained_indices;
  std::sort(seen.begin(), seen.end());
  std::vector<std::int64_t> expected;
  for (int e = 0; e < 2; ++e)
    for (std::int64_t i = 0; i < 10; ++i) expected.push_back(i);
  std::sort(expected.begin(), expected.end());
  CHECK(seen == expected);
}

TEST_CASE("limit_train_batches and limit_predict_batches cut the loops") {
  Harness h(10, {2, false, false, 0}, {{.max_epochs = 1, .limit_train_batches = 2, .limit_predict_batches = 3}});
  auto& [loader, val_loader, module, events, spy, trainer] = h;
  trainer.fit(module, loader);
  CHECK(std::count(spy.events.begin(), spy.events.end(), "train_batch_end") == 2);
  trainer.predict(module, loader);
  CHECK(std::count(spy.events.begin(), spy.events.end(), "predict_batch_end") == 3);
  CHECK(spy.predicted_indices == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("predict emits every event in order and every sample's index once") {
  Harness h(7, {3, false, false, 0});
  auto& [loader, val_loader, module, events, spy, trainer] = h;
  trainer.predict(module, loader);
  CHECK(spy.events == concat({{"setup:predict", "predict_start", "predict_epoch_start"},
                              repeat({"predict_batch_start", "predict_batch_end"}, 3),
                              {"predict_epoch_end", "predict_end", "teardown:predict"}}));
  CHECK(spy.predicted_indices == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6});
}

TEST_CASE("an exception in a step fires the exception event, then propagates") {
  Harness h(6, {2, false, false, 0});
  auto& [loader, val_loader, module, events, spy, trainer] = h;

  SUBCASE("in predict_step") {
    module.fail_predict_at = 1;
    CHECK_THROWS_WITH_AS(trainer.predict(module, loader), "predict_step failed on purpose", Error);
    CHECK(std::count(spy.events.begin(), spy.events.end(), "exception") == 1);
    CHECK(spy.events.back() == "exception");
    CHECK(spy.exception_messages == std::vector<std::string>{"predict_step failed on purpose"});
  }
  SUBCASE("in training_step") {
    module.fail_train_at = 2;
    CHECK_THROWS_AS(trainer.fit(module, loader), Error);
    CHECK(spy.events.back() == "exception");
    CHECK(std::count(spy.events.begin(), spy.events.end(), "train_batch_end") == 2);
  }
  SUBCASE("in a callback") {
    boost::signals2::scoped_connection failing =
        events.predict_batch_end.connect([](const PredictBatchEnd&) { throw Error("callback failed"); });
    CHECK_THROWS_WITH(trainer.predict(module, loader), "callback failed");
    CHECK(spy.events.back() == "exception");
  }
}

TEST_CASE("a non-finite loss stops fit with a clear error") {
  class NanModule : public LineModule {
   public:
    at::Tensor training_step(const Batch& batch, std::int64_t i) override {
      return LineModule::training_step(batch, i) * std::numeric_limits<float>::quiet_NaN();
    }
  };
  auto dataset = std::make_shared<LineDataset>(4);
  DataLoader loader(dataset, {2, false, false, 0});
  NanModule module;
  Events events;
  Trainer trainer({}, events);
  CHECK_THROWS_WITH(trainer.fit(module, loader), doctest::Contains("the loss is nan at epoch 0, batch 0"));
}

TEST_CASE("on_nonfinite_loss: skip_batch leaves a NaN or infinite batch out of the gradients and of train_loss") {
  // Batch 1 of 3 goes wrong; `zero_instead` makes it harmless (no gradient) but counted, for comparison.
  class OneBadBatch : public LineModule {
   public:
    explicit OneBadBatch(float bad) : bad_(bad) {}
    at::Tensor training_step(const Batch& batch, std::int64_t i) override {
      const at::Tensor loss = LineModule::training_step(batch, i);
      losses.push_back(loss.item<double>());
      return i == 1 ? loss * bad_ : loss;
    }
    std::vector<double> losses;

   private:
    float bad_;
  };
  TrainerOptions options;
  options.on_nonfinite_loss = NonFiniteLoss::skip_batch;
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    Harness skipping(6, {2, false, false, 0}, options);
    at::manual_seed(0);
    OneBadBatch module(bad);
    skipping.trainer.fit(module, skipping.loader);
    CHECK(std::count(skipping.spy.events.begin(), skipping.spy.events.end(), "train_batch_end") == 3);
    REQUIRE(module.losses.size() == 3);
    CHECK(skipping.spy.epoch_metrics.at(0).at("train_loss") == doctest::Approx((module.losses[0] + module.losses[2]) / 2));

    Harness zeroed(6, {2, false, false, 0});
    at::manual_seed(0);
    OneBadBatch reference(0.0f);
    zeroed.trainer.fit(reference, zeroed.loader);
    CHECK(at::isfinite(module.linear()->weight).all().item<bool>());
    CHECK(at::equal(module.linear()->weight, reference.linear()->weight));
    CHECK(at::equal(module.linear()->bias, reference.linear()->bias));
  }
}

TEST_CASE("fit validates every check_val_every_n_epoch epochs, in Lightning's order, and hands the metrics on") {
  Harness h(10, {4, false, false, 0}, {{.max_epochs = 4, .check_val_every_n_epoch = 2}});
  auto& [loader, val_loader, module, events, spy, trainer] = h;
  trainer.fit(module, loader, &val_loader);

  const auto train_batches = repeat({"train_batch_start", "train_batch_end"}, 3);
  const auto validation = concat({{"validation_start", "validation_epoch_start"},
                                  repeat({"validation_batch_start", "validation_batch_end"}, 3),
                                  {"validation_epoch_end", "validation_end"}});
  const auto plain = concat({{"train_epoch_start"}, train_batches, {"train_epoch_end"}});
  const auto validated = concat({{"train_epoch_start"}, train_batches, validation, {"train_epoch_end"}});
  CHECK(spy.events == concat({{"setup:fit", "fit_start"}, plain, validated, plain, validated, {"fit_end", "teardown:fit"}}));
  CHECK(spy.validated_epochs == std::vector<std::int64_t>{1, 3});
  REQUIRE(spy.epoch_metrics.size() == 4);
  CHECK(spy.epoch_metrics[0].size() == 1);  // train_loss only
  CHECK(spy.epoch_metrics[0].count("train_loss") == 1);
  // The epoch's metrics carry what the validation reported.
  CHECK(spy.epoch_metrics[1].at("val_loss") == spy.validation_metrics[0].at("val_loss"));
  CHECK(spy.epoch_metrics[3].at("val_loss") < spy.epoch_metrics[1].at("val_loss"));
}

TEST_CASE("validation metrics are means over samples, whatever the batch sizes, and change no weight") {
  Harness h(10, {4, false, false, 0}, {{.max_epochs = 1, .limit_val_batches = 3}});
  auto& [loader, val_loader, module, events, spy, trainer] = h;
  const at::Tensor weight = module.linear()->weight.detach().clone();
  const MetricValues metrics = trainer.validate(module, val_loader);  // batches of 4, 4 and 2 samples
  CHECK(at::equal(weight, module.linear()->weight));
  const Batch all = val_loader.dataset().get_batch(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  const double expected = module.training_step(all, 0).item<double>();
  CHECK(metrics.at("val_loss") == doctest::Approx(expected).epsilon(1e-6));
  CHECK(spy.events.front() == "setup:validate");
  CHECK(spy.events.back() == "teardown:validate");
  CHECK(std::count(spy.events.begin(), spy.events.end(), "validation_batch_end") == 3);
  CHECK(module.network().is_training() == false);
}
