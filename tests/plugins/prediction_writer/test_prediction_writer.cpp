// The PredictionWriter as the CLI uses it: loaded from its .so, checked
// against its parameter table, driven by the Trainer's events.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <fmt/format.h>
#include <unistd.h>

#include <functional>

#include "minitrain/io/collate.hpp"
#include "minitrain/io/prediction_manifest.hpp"
#include "minitrain/io/serialization.hpp"
#include "index_dataset.hpp"
#include "minitrain/core/trainer.hpp"
#include "plugin_factory.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<Callback> make_writer(const std::string& init_args_yaml) {
  return minitrain::testing::make_plugin_callback(MINITRAIN_PLUGIN_DIR, "prediction_writer", init_args_yaml);
}

// A writer listening to `events`.
std::shared_ptr<Callback> writer_on(Events& events, const std::string& init_args_yaml) {
  auto writer = make_writer(init_args_yaml);
  writer->connect(events);
  return writer;
}

c10::impl::GenericDict prediction(std::int64_t rows, std::int64_t length, float value) {
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("embeddings", at::full({rows, 4}, value));
  d.insert("token_logits", at::full({rows, length, 3}, value));
  return d;
}

// Runs a predict epoch over batches of the given (rows, length), emitting the events the Trainer emits;
// `after_batch(b)` runs after each batch's events. Without `announce_samples`, the epoch's start does
// not say how many rows come (an epoch file is then assembled at the end).
void run_predict(Events& events, const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes, int rank = 0,
                 const std::function<void(std::size_t)>& after_batch = {}, bool announce_samples = true) {
  events.setup(Setup{Stage::predict, rank, 1, "runs"});
  events.predict_start(PredictStart{});
  std::int64_t samples = 0;
  for (const auto& [rows, length] : shapes) samples += rows;
  events.predict_epoch_start(PredictEpochStart{0, static_cast<std::int64_t>(shapes.size()), announce_samples ? samples : 0});
  std::int64_t next_index = 0;
  for (std::size_t b = 0; b < shapes.size(); ++b) {
    Batch batch;
    for (std::int64_t r = 0; r < shapes[b].first; ++r) {
      batch.ids.push_back("s" + std::to_string(next_index));
      batch.indices.push_back(next_index++);
    }
    const c10::IValue out = prediction(shapes[b].first, shapes[b].second, static_cast<float>(b + 1));
    events.predict_batch_end(PredictBatchEnd{static_cast<std::int64_t>(b), 0, batch.indices, batch, out});
    if (after_batch) after_batch(b);
  }
  events.predict_epoch_end(PredictEpochEnd{0, static_cast<std::int64_t>(shapes.size())});
  events.predict_end(PredictEnd{static_cast<std::int64_t>(shapes.size())});
  events.teardown(Teardown{Stage::predict});
}

at::Tensor field(const fs::path& file, const std::string& key) {
  return load_pickled(file).toGenericDict().at(key).toTensor();
}

std::vector<std::string> ids_in(const fs::path& file) {
  const c10::IValue loaded = load_pickled(file);
  std::vector<std::string> ids;
  for (const c10::IValue& id : loaded.toGenericDict().at("ids").toListRef()) ids.push_back(id.toStringRef());
  return ids;
}

}  // namespace

TEST_CASE("batch interval: one BioNeMo-named file per batch with batch_idx, batch_indices and ids") {
  TempDir dir;
  const fs::path out = dir / "preds";
  Events events;
  auto writer = writer_on(events, "{output_dir: " + out.string() + "}");
  CHECK(events.predict_epoch_end.num_slots() == 0);  // a batch writer never hears epoch ends
  run_predict(events, {{2, 5}, {3, 7}}, /*rank=*/1);
  CHECK(fs::exists(out / "predictions__rank_1__batch_0.pt"));
  const fs::path second = out / "predictions__rank_1__batch_1.pt";
  REQUIRE(fs::exists(second));
  CHECK_FALSE(fs::exists(out / "predictions__rank_1.pt"));
  const auto dict = load_pickled(second).toGenericDict();
  CHECK(dict.size() == 5);
  CHECK(dict.at("token_logits").toTensor().sizes() == at::IntArrayRef({3, 7, 3}));
  CHECK(at::equal(dict.at("batch_idx").toTensor(), at::tensor({1}, at::kLong)));
  CHECK(at::equal(dict.at("batch_indices").toTensor(), at::tensor({2, 3, 4}, at::kLong)));
  CHECK(ids_in(second) == std::vector<std::string>{"s2", "s3", "s4"});
}

TEST_CASE("epoch interval: one collated file, padded, equal to the batch files") {
  TempDir dir;
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() + ", write_interval: batch_and_epoch}");
  run_predict(events, {{2, 5}, {3, 7}, {1, 6}});
  const fs::path epoch = dir / "p" / "predictions__rank_0.pt";
  REQUIRE(fs::exists(epoch));
  const at::Tensor logits = field(epoch, "token_logits");
  CHECK(logits.sizes() == at::IntArrayRef({6, 7, 3}));
  CHECK(at::equal(field(epoch, "batch_indices"), at::arange(6, at::kLong)));
  CHECK(at::equal(field(epoch, "batch_idx"), at::tensor({0, 1, 2}, at::kLong)));
  CHECK(ids_in(epoch) == std::vector<std::string>{"s0", "s1", "s2", "s3", "s4", "s5"});
  // The manifest lists the three batch files and the epoch file, as they are on disk.
  const std::optional<Manifest> manifest = read_manifest(dir / "p");
  REQUIRE(manifest);
  REQUIRE(manifest->files.size() == 4);
  const ManifestFile& listed_epoch = manifest->files.back();
  CHECK(listed_epoch.path == "predictions__rank_0.pt");
  CHECK(listed_epoch.kind == "epoch");
  CHECK(listed_epoch.batches == std::vector<std::int64_t>{0, 1, 2});
  CHECK(listed_epoch.indices == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(listed_epoch.crc32 == file_crc32(epoch));
  CHECK(listed_epoch.tensors[1].shape == std::vector<std::int64_t>{6, 7, 3});  // token_logits, padded to 7
  CHECK(manifest->files[1].path == "predictions__rank_0__batch_1.pt");
  CHECK(manifest->files[1].indices == std::vector<std::int64_t>{2, 3, 4});
  // Rows of batch 0 hold its values for 5 positions, zeros after.
  const at::Tensor batch0 = field(dir / "p" / "predictions__rank_0__batch_0.pt", "token_logits");
  CHECK(at::equal(logits.slice(0, 0, 2).slice(1, 0, 5), batch0));
  CHECK(logits.slice(0, 0, 2).slice(1, 5, 7).eq(0).all().item<bool>());
  CHECK(at::equal(field(epoch, "embeddings").slice(0, 5, 6), field(dir / "p" / "predictions__rank_0__batch_2.pt", "embeddings")));
}

TEST_CASE("per-key dims from init_args reach the collator") {
  TempDir dir;
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() +
                            ", write_interval: epoch, batch_dim_key_defaults: {token_logits: 1}, seq_dim_key_defaults: {token_logits: 0}}");
  run_predict(events, {{2, 2}, {2, 2}});  // [2, 2, 3] twice: batch along dim 1
  CHECK(field(dir / "p" / "predictions__rank_0.pt", "token_logits").sizes() == at::IntArrayRef({2, 4, 3}));
}

TEST_CASE("existing predictions are refused without overwrite and replaced with it") {
  TempDir dir;
  const fs::path out = dir / "p";
  {
    Events events;
    auto writer = writer_on(events, "{output_dir: " + out.string() + "}");
    run_predict(events, {{1, 2}, {1, 2}, {1, 2}});
  }
  CHECK_THROWS_WITH(make_writer("{output_dir: " + out.string() + "}"),
                    doctest::Contains("already holds 3 prediction file(s), e.g. predictions__rank_0__batch_0.pt"));
  Events events;
  auto writer = writer_on(events, "{output_dir: " + out.string() + ", overwrite: true}");
  run_predict(events, {{1, 2}});
  // No file from the earlier, longer run is left to mix with this one; the manifest lists the one there is.
  CHECK(std::distance(fs::directory_iterator(out), fs::directory_iterator()) == 2);
  CHECK(read_manifest(out)->files.size() == 1);
}

TEST_CASE("an output_dir that cannot be a directory is refused before anything is written") {
  TempDir dir;
  minitrain::testing::write_file(dir / "file", "x");
  CHECK_THROWS_WITH(make_writer("{output_dir: " + (dir / "file").string() + "}"), doctest::Contains("exists and is not a directory"));
  CHECK_THROWS_WITH(make_writer("{output_dir: " + (dir / "file" / "sub").string() + "}"), doctest::Contains("cannot be written"));
}

TEST_CASE("a non-dict prediction is stored under 'prediction'; reserved keys are refused") {
  TempDir dir;
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() + "}");
  events.setup(Setup{Stage::predict, 0, 1, "runs"});
  Batch batch{{7}, {}};
  events.predict_batch_end(PredictBatchEnd{0, 0, batch.indices, batch, at::ones({1, 2})});
  events.predict_end(PredictEnd{1});  // waits for the write
  CHECK(at::equal(field(dir / "p" / "predictions__rank_0__batch_0.pt", "prediction"), at::ones({1, 2})));
  CHECK(ids_in(dir / "p" / "predictions__rank_0__batch_0.pt") == std::vector<std::string>{"7"});  // a batch without IDs
  for (const char* reserved : {"batch_idx", "batch_indices", "ids"}) {
    c10::impl::GenericDict clash(c10::StringType::get(), c10::AnyType::get());
    clash.insert(reserved, at::ones({1}));
    CHECK_THROWS_WITH(events.predict_batch_end(PredictBatchEnd{1, 0, batch.indices, batch, clash}),
                      doctest::Contains(fmt::format("returned the key '{}', which the writer reserves", reserved).c_str()));
  }
}

TEST_CASE("a writer in a fit job writes nothing") {
  TempDir dir;
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() + "}");
  events.setup(Setup{Stage::fit, 0, 1, "runs"});
  CHECK_FALSE(fs::exists(dir / "p"));
}

TEST_CASE("epoch interval alone: written as batches arrive while they fit, spilled after; the file equals in-memory collation") {
  // The first two batches go straight into the epoch file; the third is wider, so from
  // there on batches are spilled and the epoch file is assembled at the end.
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{2, 7}, {3, 5}, {1, 8}, {2, 6}};
  TempDir dir;
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() + ", write_interval: epoch}");
  const fs::path spill = dir / "p" / ".spill__rank_0";
  run_predict(events, shapes, 0, [&](std::size_t b) {
    if (b >= 2) return;  // from here on the writer thread moves things as it gets to them
    CHECK(fs::exists(dir / "p" / fmt::format("predictions__rank_0.pt.tmp{}", ::getpid())));
    CHECK_FALSE(fs::exists(spill));
  });
  CHECK(std::distance(fs::directory_iterator(dir / "p"), fs::directory_iterator()) == 2);  // no spill left behind
  CHECK(fs::exists(dir / "p" / "manifest.json"));
  const auto dict = load_pickled(dir / "p" / "predictions__rank_0.pt").toGenericDict();
  std::vector<c10::IValue> in_memory;
  for (std::size_t b = 0; b < shapes.size(); ++b)
    in_memory.push_back(prediction(shapes[b].first, shapes[b].second, static_cast<float>(b + 1)));
  const c10::IValue expected = batch_collator(in_memory);
  CHECK(at::equal(dict.at("token_logits").toTensor(), expected.toGenericDict().at("token_logits").toTensor()));
  CHECK(at::equal(dict.at("embeddings").toTensor(), expected.toGenericDict().at("embeddings").toTensor()));
  CHECK(dict.at("ids").toListRef().size() == 8);

  // Batches that all fit: written once, never spilled, and the same bytes as the batch files' assembly.
  const std::vector<std::pair<std::int64_t, std::int64_t>> fitting{{2, 7}, {3, 5}, {1, 7}};
  Events direct_events, both_events;
  auto direct = writer_on(direct_events, "{output_dir: " + (dir / "d").string() + ", write_interval: epoch}");
  run_predict(direct_events, fitting, 0, [&](std::size_t) { CHECK_FALSE(fs::exists(dir / "d" / ".spill__rank_0")); });
  auto both = writer_on(both_events, "{output_dir: " + (dir / "b").string() + ", write_interval: batch_and_epoch}");
  run_predict(both_events, fitting);
  Events assembled_events;
  auto assembled = writer_on(assembled_events, "{output_dir: " + (dir / "a").string() + ", write_interval: epoch}");
  run_predict(assembled_events, fitting, 0, {}, false);
  for (const char* other : {"d", "b"}) CHECK(file_crc32(dir / other / "predictions__rank_0.pt") == file_crc32(dir / "a" / "predictions__rank_0.pt"));
}

TEST_CASE("a write that fails on the writer thread is raised in the loop, not swallowed") {
  TempDir dir;
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() + "}");
  events.setup(Setup{Stage::predict, 0, 1, "runs"});
  // A directory where batch 0's file must go: its rename fails.
  fs::create_directories(dir / "p" / "predictions__rank_0__batch_0.pt" / "blocker");
  Batch batch{{0}, {}};
  events.predict_batch_end(PredictBatchEnd{0, 0, batch.indices, batch, prediction(1, 2, 1.f)});
  CHECK_THROWS_WITH(events.predict_end(PredictEnd{1}), doctest::Contains("predictions__rank_0__batch_0.pt"));
}

TEST_CASE("resume keeps complete files, drops temporaries, writes the rest; the result equals one run") {
  TempDir dir;
  const fs::path out = dir / "p";
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{2, 5}, {3, 7}, {1, 6}, {2, 2}};
  {
    Events events;
    auto writer = writer_on(events, "{output_dir: " + out.string() + ", write_interval: batch_and_epoch}");
    run_predict(events, {shapes[0], shapes[1]});  // an interrupted run: two batches, and its epoch file removed
  }
  fs::remove(out / "predictions__rank_0.pt");
  minitrain::testing::write_file(out / "predictions__rank_0__batch_2.pt.tmp4242", "truncated");
  const auto kept_time = fs::last_write_time(out / "predictions__rank_0__batch_0.pt");
  {
    Events events;
    auto writer = writer_on(events, "{output_dir: " + out.string() + ", write_interval: batch_and_epoch, resume: true}");
    run_predict(events, shapes);
  }
  CHECK(fs::last_write_time(out / "predictions__rank_0__batch_0.pt") == kept_time);
  CHECK_FALSE(fs::exists(out / "predictions__rank_0__batch_2.pt.tmp4242"));
  TempDir fresh_dir;
  {
    Events events;
    auto writer = writer_on(events, "{output_dir: " + (fresh_dir / "p").string() + ", write_interval: batch_and_epoch}");
    run_predict(events, shapes);
  }
  for (const std::string name : {"predictions__rank_0.pt", "predictions__rank_0__batch_3.pt"}) {
    for (const std::string key : {"token_logits", "embeddings", "batch_indices", "batch_idx"})
      CHECK(at::equal(field(out / name, key), field(fresh_dir / "p" / name, key)));
  }
  SUBCASE("files of another job are refused") {
    Events events;
    auto writer = writer_on(events, "{output_dir: " + out.string() + ", resume: true}");
    events.setup(Setup{Stage::predict, 0, 1, "runs"});
    Batch other{{40, 41}, {}};
    // Refused at once when the manifest lists the file, at the next event when it is read on the writer thread.
    const auto resume_other = [&] {
      events.predict_batch_end(PredictBatchEnd{0, 0, other.indices, other, prediction(2, 5, 1.f)});
      events.predict_end(PredictEnd{1});
    };
    CHECK_THROWS_WITH(resume_other(), doctest::Contains("holds other samples than this job's batch"));
  }
  SUBCASE("a file changed since the manifest listed it is written again; the others are kept unread") {
    const fs::path changed = out / "predictions__rank_0__batch_1.pt";
    fs::resize_file(changed, fs::file_size(changed) - 1);
    const auto listed_time = fs::last_write_time(out / "predictions__rank_0__batch_3.pt");
    {
      Events events;
      auto writer = writer_on(events, "{output_dir: " + out.string() + ", write_interval: batch_and_epoch, resume: true}");
      run_predict(events, shapes);
    }
    CHECK(fs::last_write_time(out / "predictions__rank_0__batch_3.pt") == listed_time);
    CHECK(at::equal(field(changed, "token_logits"), field(fresh_dir / "p" / "predictions__rank_0__batch_1.pt", "token_logits")));
    CHECK(read_manifest(out).has_value());
  }
  CHECK_THROWS_WITH(make_writer("{output_dir: " + out.string() + ", resume: true, overwrite: true}"),
                    doctest::Contains("overwrite and resume cannot both be true"));
}

TEST_CASE("files_per_subdir, keys and dtype") {
  TempDir dir;
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() +
                            ", files_per_subdir: 2, keys: [token_logits], dtype: bfloat16, write_interval: batch_and_epoch}");
  run_predict(events, {{1, 2}, {1, 2}, {1, 3}});
  const fs::path last = dir / "p" / "subdir_1" / "predictions__rank_0__batch_2.pt";
  REQUIRE(fs::exists(dir / "p" / "subdir_0" / "predictions__rank_0__batch_1.pt"));
  REQUIRE(fs::exists(last));
  const auto dict = load_pickled(last).toGenericDict();
  CHECK(dict.size() == 4);  // token_logits, batch_idx, batch_indices, ids
  CHECK((dict.at("token_logits").toTensor().scalar_type() == at::kBFloat16));
  CHECK((dict.at("batch_indices").toTensor().scalar_type() == at::kLong));  // only floating point is cast
  const auto epoch = load_pickled(dir / "p" / "predictions__rank_0.pt").toGenericDict();
  CHECK(epoch.at("token_logits").toTensor().sizes() == at::IntArrayRef({3, 3, 3}));
  CHECK((epoch.at("token_logits").toTensor().scalar_type() == at::kBFloat16));

  Events more;
  auto picky = writer_on(more, "{output_dir: " + (dir / "q").string() + ", keys: [logits]}");
  more.setup(Setup{Stage::predict, 0, 1, "runs"});
  Batch batch{{0}, {}};
  CHECK_THROWS_WITH(more.predict_batch_end(PredictBatchEnd{0, 0, batch.indices, batch, prediction(1, 2, 1.f)}),
                    doctest::Contains("keys names 'logits', but predict_step returned only: embeddings, token_logits"));
}

namespace {
// Returns a small prediction dict for every batch.
class ConstantModule : public Module {
 public:
  torch::nn::Module& network() override { return network_; }
  at::Tensor training_step(const Batch&, std::int64_t) override { return at::zeros({}); }
  c10::IValue predict_step(const Batch& batch, std::int64_t) override { return prediction(batch.size(), 3, 1.f); }
  std::unique_ptr<torch::optim::Optimizer> configure_optimizers() override { return nullptr; }

 private:
  torch::nn::Module network_;
};
}  // namespace

TEST_CASE("under the Trainer, a failed background write fires the exception event and stops predict") {
  TempDir dir;
  // What resume finds under batch 1's name cannot be read: the check fails on the writer thread.
  fs::create_directories(dir / "p" / "predictions__rank_0__batch_1.pt");
  Events events;
  auto writer = writer_on(events, "{output_dir: " + (dir / "p").string() + ", resume: true}");
  std::vector<std::string> failures;
  boost::signals2::scoped_connection spy = events.exception.connect([&](const ExceptionEvent& e) { failures.push_back(e.message); });
  DataLoader loader(std::make_shared<minitrain::testing::IndexDataset>(8), {2, false, false, 0});
  ConstantModule module;
  Trainer trainer({}, events);
  CHECK_THROWS_WITH(trainer.predict(module, loader), doctest::Contains("predictions__rank_0__batch_1.pt"));
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("predictions__rank_0__batch_1.pt") != std::string::npos);
  CHECK(fs::exists(dir / "p" / "predictions__rank_0__batch_0.pt"));  // finished work is kept
}

TEST_CASE("the writer announces its progress after every batch and once when done, each row counted once") {
  TempDir dir;
  Events events;
  std::vector<WriterProgress> heard;
  boost::signals2::scoped_connection listen = events.writer_progress.connect([&](const WriterProgress& p) { heard.push_back(p); });
  auto writer = writer_on(events, fmt::format("{{output_dir: {}, write_interval: batch_and_epoch}}", (dir / "out").string()));
  run_predict(events, {{3, 5}, {2, 7}});
  REQUIRE(heard.size() == 3);  // two batches, then done
  CHECK_FALSE(heard[1].done);
  const WriterProgress& last = heard.back();
  CHECK(last.done);
  CHECK(last.output_dir == (dir / "out").string());
  CHECK(last.files == 3);  // two batch files and the epoch file
  CHECK(last.rows == 5);   // the epoch file holds the batch files' rows again
  std::int64_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir / "out"))
    if (entry.path().extension() == ".pt") bytes += static_cast<std::int64_t>(entry.file_size());
  CHECK(last.bytes == bytes);
  CHECK(last.waited_s >= 0);
}
