// The shipped callbacks (early_stopping, timer, model_checkpoint, csv_logger, run_report)
// loaded from their .so files and driven by a real Trainer.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "framework/line_regression.hpp"
#include "framework/spy_callback.hpp"
#include "minitrain/core/callback_list.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/core/trainer.hpp"
#include "minitrain/io/training_checkpoint.hpp"
#include "minitrain/report/run_record.hpp"
#include "plugin_factory.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::LineDataset;
using minitrain::testing::SpyCallback;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<Callback> plugin(const std::string& name, const std::string& init_args) {
  return minitrain::testing::make_plugin_callback(MINITRAIN_PLUGIN_DIR, name, init_args);
}

struct FitResult {
  SpyCallback spy;
  std::int64_t epochs_run = 0;
  at::Tensor weights;  // at the end
};

// Fits the line regression with the given callbacks (name, init_args) for up
// to max_epochs, writing last.pt to `checkpoint` and resuming from it if asked.
std::unique_ptr<FitResult> fit(const std::vector<std::pair<std::string, std::string>>& plugins, std::int64_t max_epochs,
                               const fs::path& checkpoint, bool resume = false,
                               std::optional<fs::path> resume_from = std::nullopt) {
  at::manual_seed(0);
  auto result = std::make_unique<FitResult>();
  CallbackList callbacks;
  for (const auto& [name, args] : plugins) callbacks.add(name, plugin(name, args));
  Events events;
  callbacks.connect(events);
  result->spy.connect(events);
  boost::signals2::scoped_connection end = events.fit_end.connect([&](const FitEnd& e) { result->epochs_run = e.epochs_run; });
  minitrain::testing::LineModule module;
  DataLoader loader(std::make_shared<LineDataset>(12), {4});
  DataLoader val_loader(std::make_shared<LineDataset>(12), {6});
  TrainerOptions options{{.max_epochs = max_epochs}};
  options.checkpoint_path = checkpoint;
  options.callbacks = &callbacks;
  if (resume) {
    const fs::path from = resume_from.value_or(checkpoint);
    options.resume_from = LoadedCheckpoint{load_pickled(from), from};
  }
  Trainer(options, events).fit(module, loader, &val_loader);
  result->weights = at::cat({module.linear()->weight.flatten(), module.linear()->bias.flatten()}).detach().clone();
  return result;
}

std::int64_t count(const std::vector<std::string>& events, const std::string& name) {
  return std::count(events.begin(), events.end(), name);
}

}  // namespace

TEST_CASE("early_stopping stops after `patience` checks without improvement, and resumes its count") {
  TempDir dir;
  // The loss falls every epoch, so in mode max it never improves after the first check.
  const std::vector<std::pair<std::string, std::string>> stopper{{"early_stopping", "{monitor: val_loss, mode: max, patience: 2}"}};
  const auto whole = fit(stopper, 10, dir / "whole.pt");
  CHECK(whole->epochs_run == 3);  // epoch 0 sets the best, epochs 1 and 2 do not beat it
  CHECK(count(whole->spy.events, "train_epoch_end") == 3);
  CHECK(whole->spy.events.back() == "teardown:fit");  // a stop is a normal end

  fit(stopper, 1, dir / "part.pt");
  const auto saved = load_pickled(dir / "part.pt").toGenericDict().at("callbacks").toGenericDict();
  CHECK(saved.at("early_stopping").toGenericDict().at("wait").toInt() == 0);
  const auto resumed = fit(stopper, 10, dir / "part.pt", true);
  CHECK(resumed->epochs_run == 3);

  const auto improving = fit({{"early_stopping", "{monitor: val_loss, patience: 2}"}}, 4, dir / "c.pt");
  CHECK(improving->epochs_run == 4);
  CHECK_THROWS_WITH_AS(fit({{"early_stopping", "{monitor: val_los}"}}, 2, dir / "d.pt"),
                       "early_stopping: monitor 'val_los' is not among the metrics of epoch 0 (train_loss, val_loss); set "
                       "monitor to one of them, or add a data.val section for val_ metrics",
                       Error);
}

TEST_CASE("timer stops a fit once its budget is spent and keeps the time spent") {
  TempDir dir;
  const auto r = fit({{"timer", "{max_seconds: 0.000001}"}}, 5, dir / "t.pt");
  CHECK(count(r->spy.events, "train_batch_end") == 1);  // checked after every batch
  CHECK(count(r->spy.events, "train_epoch_end") == 1);
  CHECK(count(r->spy.events, "validation_start") == 0);  // a mid-epoch stop skips validation
  CHECK(load_pickled(dir / "t.pt").toGenericDict().at("callbacks").toGenericDict().at("timer").toGenericDict().at(
            "elapsed_seconds").toDouble() > 0);
  const auto per_epoch = fit({{"timer", "{max_seconds: 0.000001, interval: epoch}"}}, 5, dir / "e.pt");
  CHECK(count(per_epoch->spy.events, "train_batch_end") == 3);
  CHECK(fit({{"timer", "{max_seconds: 3600}"}}, 2, dir / "long.pt")->epochs_run == 2);
}

TEST_CASE("model_checkpoint keeps the best k by a metric, or the latest k, as resumable checkpoints") {
  TempDir dir;
  const std::string best = (dir / "best").string();
  const std::string latest = (dir / "latest").string();
  fit({{"model_checkpoint", fmt::format("{{dirpath: {}, monitor: val_loss, save_top_k: 2, save_last: true, "
                                        "filename: 'e{{epoch}}-{{val_loss}}'}}", best)},
       {"model_checkpoint", fmt::format("{{dirpath: {}, save_top_k: 1, every_n_epochs: 2}}", latest)}},
      4, dir / "last.pt");
  std::vector<std::string> kept;
  for (const auto& entry : fs::directory_iterator(best)) kept.push_back(entry.path().filename().string());
  std::sort(kept.begin(), kept.end());
  REQUIRE(kept.size() == 3);  // the loss falls every epoch: epochs 2 and 3 are the best two
  CHECK(kept[0].rfind("e2-", 0) == 0);
  CHECK(kept[1].rfind("e3-", 0) == 0);
  CHECK(kept[2] == "last.pt");
  CHECK(fs::exists(dir / "latest" / "epoch=3-step=12.pt"));
  CHECK_FALSE(fs::exists(dir / "latest" / "epoch=1-step=6.pt"));  // replaced by the later one
  const LoadedCheckpoint checkpoint{load_pickled(dir / "latest" / "epoch=3-step=12.pt"), dir / "latest" / "epoch=3-step=12.pt"};
  CHECK(is_training_checkpoint(checkpoint.value));
  CHECK(checkpoint.value.toGenericDict().at("epochs_done").toTensor().item<std::int64_t>() == 4);
  // Two instances of one plugin keep their own state.
  const auto states = load_pickled(dir / "last.pt").toGenericDict().at("callbacks").toGenericDict();
  CHECK(states.at("model_checkpoint").toGenericDict().at("kept_files").toListRef().size() == 2);
  CHECK(states.at("model_checkpoint#2").toGenericDict().at("kept_files").toListRef().size() == 1);
}

TEST_CASE("csv_logger writes a row per epoch and every N steps under a stable header") {
  TempDir dir;
  fit({{"csv_logger", fmt::format("{{save_dir: {}, log_every_n_steps: 2}}", (dir / "logs").string())}}, 2, dir / "c.pt");
  const std::string text = minitrain::testing::read_file(dir / "logs" / "version_0" / "metrics.csv");
  INFO(text);
  CHECK(text.rfind("epoch,step,train_loss,train_loss_step,val_loss\n", 0) == 0);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1 + 3 + 2);  // header, steps 2, 4, 6, and two epoch rows
  CHECK(text.find("\n0,2,,") != std::string::npos);  // a step row leaves the epoch metrics empty
  CHECK(text.find("\n1,6,") != std::string::npos);
  // A second run goes to the next version.
  fit({{"csv_logger", fmt::format("{{save_dir: {}}}", (dir / "logs").string())}}, 1, dir / "c.pt");
  CHECK(fs::exists(dir / "logs" / "version_1" / "metrics.csv"));
}

TEST_CASE("model_checkpoint every N steps writes mid-epoch checkpoints that resume exactly") {
  TempDir dir;
  const auto whole = fit({}, 4, dir / "whole.pt");
  const std::string steps = fmt::format("{{dirpath: {}, every_n_train_steps: 2, every_n_epochs: 0, save_top_k: -1}}",
                                        (dir / "steps").string());
  fit({{"model_checkpoint", steps}}, 2, dir / "part.pt");
  for (const char* name : {"epoch=0-step=2.pt", "epoch=1-step=4.pt", "epoch=1-step=6.pt"})
    CHECK(fs::exists(dir / "steps" / name));
  // Step 4 is the first batch of epoch 1 (3 batches an epoch): resume with its second batch.
  const fs::path middle = dir / "steps" / "epoch=1-step=4.pt";
  const auto saved = load_pickled(middle).toGenericDict();
  CHECK(saved.at("epochs_done").toTensor().item<std::int64_t>() == 1);
  CHECK(saved.at("batches_done").toTensor().item<std::int64_t>() == 1);
  const auto resumed = fit({}, 4, dir / "resumed.pt", true, middle);
  CHECK(at::equal(resumed->weights, whole->weights));
  CHECK(count(resumed->spy.events, "train_batch_end") == 2 + 3 + 3);
  // The resumed epoch's train_loss counts the batches before the checkpoint too.
  CHECK(resumed->spy.epoch_metrics.front().at("train_loss") == whole->spy.epoch_metrics[1].at("train_loss"));
  CHECK_THROWS_WITH_AS(plugin("model_checkpoint", fmt::format("{{dirpath: {}, every_n_train_steps: 2, monitor: val_loss}}",
                                                              (dir / "x").string())),
                       doctest::Contains("every_n_train_steps keeps the latest checkpoints"), Error);
}

TEST_CASE("a val_ metric is awaited on epochs without validation, and only then") {
  CHECK(awaits_validation({{"train_loss", 1.0}}, "val_loss"));
  CHECK_FALSE(awaits_validation({{"train_loss", 1.0}, {"val_accuracy", 0.5}}, "val_loss"));  // validated, but no val_loss
  CHECK_FALSE(awaits_validation({{"train_loss", 1.0}}, "train_los"));
  CHECK_FALSE(awaits_validation({{"val_loss", 1.0}}, "val_loss"));
}

TEST_CASE("run_report records the fit, the checkpoints and early-stopping decisions other callbacks announce, and its page") {
  TempDir dir;
  const auto result = fit({{"model_checkpoint", fmt::format("{{dirpath: {}, monitor: val_loss, mode: max}}", (dir / "best").string())},
                           {"early_stopping", "{monitor: val_loss, mode: max, patience: 2}"},
                           {"run_report", fmt::format("{{dir: {}, log_every_n_steps: 2}}", (dir / "report").string())}},
                          10, dir / "last.pt");
  REQUIRE(result->epochs_run == 3);
  const RunRecord record = read_run_record(dir / "report");
  REQUIRE(record.starts.size() == 1);
  CHECK(record.starts[0].stage == "fit");
  CHECK(record.epochs.size() == 3);
  CHECK(record.epochs.at(2).metrics.at("val_loss") == result->spy.epoch_metrics[2].at("val_loss"));
  CHECK(record.epochs.at(0).batches == 3);
  CHECK(record.epochs.at(0).samples == 12);
  std::vector<std::int64_t> steps;
  for (const auto& [step, s] : record.steps) steps.push_back(step);
  CHECK(steps == std::vector<std::int64_t>{2, 4, 6, 8});
  CHECK(record.steps.at(2).lr == 0.5);  // the line regression's SGD
  // In mode max the falling loss never beats epoch 0: one checkpoint, the best throughout.
  REQUIRE(record.checkpoints.size() == 1);
  CHECK(record.checkpoints[0].best_path == (dir / "best" / "epoch=0-step=3.pt").string());
  REQUIRE(record.early_stopping.size() == 3);
  CHECK(record.early_stopping[0].stop_reason.empty());
  CHECK(record.early_stopping[2].wait == 2);
  CHECK(record.early_stopping[2].stop_reason.rfind("early_stopping: val_loss has not improved", 0) == 0);
  REQUIRE(record.end);
  CHECK(record.end->status == "finished");
  CHECK(record.end->message == record.early_stopping[2].stop_reason);
  const std::string page = minitrain::testing::read_file(dir / "report" / "report.html");
  CHECK(page.find("data-name=\"val_loss\" data-points=\"3\"") != std::string::npos);
  CHECK(page.find(">early stop</text>") != std::string::npos);
}
