#include "minitrain/job/config.hpp"
#include "minitrain/base/error.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;

namespace {

const char* kGoodJob = R"(seed_everything: 3
trainer:
  max_epochs: 2
  callbacks:
    - plugin: prediction_writer
      init_args: {output_dir: out, write_interval: epoch}
model:
  class_path: protein_encoder
  init_args: {embed_dim: 32, num_heads: 4}
data:
  batch_size: 4
  predict: {fasta: seqs.fa}
)";

struct Loaded {
  JobConfig job;
  Diagnostics diagnostics;
};

Loaded load(const TempDir& dir, const std::string& text, std::vector<std::string> overrides = {}) {
  Loaded out;
  out.job = load_job_config(write_file(dir / "job.yaml", text), overrides, out.diagnostics);
  return out;
}

}  // namespace

TEST_CASE("a good job loads into typed values with defaults filled in") {
  TempDir dir;
  auto [job, diagnostics] = load(dir, kGoodJob);
  CHECK_MESSAGE(diagnostics.empty(), diagnostics.format());
  CHECK(job.seed_everything == 3);
  CHECK(job.trainer.max_epochs == 2);
  CHECK_FALSE(job.trainer.limit_train_batches.has_value());
  CHECK(job.trainer.accelerator == "cpu");
  REQUIRE(job.callbacks.size() == 1);
  CHECK(job.callbacks[0].plugin == "prediction_writer");
  CHECK(job.callbacks[0].init_args["write_interval"].as<std::string>() == "epoch");
  CHECK(job.callbacks[0].where.line == 5);
  CHECK(job.model.class_path() == "protein_encoder");
  CHECK(job.model.init_args.integer("embed_dim") == 32);
  CHECK(job.model.init_args.integer("num_layers") == 2);  // default
  REQUIRE(job.data.predict.has_value());
  CHECK(job.data.predict->format() == "fasta");
  CHECK(job.data.predict->args.string("fasta") == "seqs.fa");
  CHECK(job.data.predict->args.string("padding") == "longest");  // default
  CHECK_FALSE(job.data.predict->batch_size.has_value());
  CHECK_FALSE(job.data.train.has_value());
  CHECK(job.data.batch_size == 4);
  const std::string printed = to_yaml(job);
  CHECK(printed.find("num_layers: 2") != std::string::npos);
  CHECK(printed.find("shuffle: false") != std::string::npos);
}

TEST_CASE("every problem is collected with file:line:col and a fix") {
  TempDir dir;
  const std::string file = (dir / "job.yaml").string();
  auto [job, diagnostics] = load(dir, R"(trainer:
  max_epochs: many
  max_epocs: 3
  accelerator: gpu
model:
  class_path: protein_encoder
  init_args: {embed_dimm: 32}
data:
  batch_size: 8
  train: {fasta: a.fa, max_lenght: 9}
)");
  const std::string text = diagnostics.format();
  INFO(text);
  CHECK(diagnostics.items().size() == 5);
  CHECK(text.find(file + ":2:15: error: trainer.max_epochs: expected an integer, got 'many'") != std::string::npos);
  CHECK(text.find(file + ":3:3: error: trainer.max_epocs: unknown key (did you mean max_epochs?)") != std::string::npos);
  CHECK(text.find(file + ":4:16: error: trainer.accelerator: expected one of cpu, cuda, auto, got 'gpu'") != std::string::npos);
  CHECK(text.find(file + ":7:15: error: model.init_args.embed_dimm: unknown key (did you mean embed_dim?)") != std::string::npos);
  CHECK(text.find(file + ":10:24: error: data.train.max_lenght: unknown key (did you mean max_length?)") != std::string::npos);
  // In file order.
  CHECK(text.find(":2:15:") < text.find(":3:3:"));
  CHECK_THROWS_AS(diagnostics.throw_if_any(), ConfigError);
}

TEST_CASE("values out of range and wrong shapes are reported") {
  TempDir dir;
  auto [job, diagnostics] = load(dir, R"(trainer: {max_epochs: 0, callbacks: {plugin: x}}
model: {class_path: protein_encoder}
data: {batch_size: -1, shuffle: maybe, train: {fasta: a.fa, batch_size: 0}}
)");
  const std::string text = diagnostics.format();
  INFO(text);
  CHECK(text.find("trainer.max_epochs: must be at least 1, got 0") != std::string::npos);
  CHECK(text.find("trainer.callbacks: expected a list of {plugin: NAME") != std::string::npos);
  CHECK(text.find("data.batch_size: must be at least 1, got -1") != std::string::npos);
  CHECK(text.find("data.shuffle: expected true or false, got 'maybe'") != std::string::npos);
  CHECK(text.find("data.train.batch_size: must be at least 1, got 0") != std::string::npos);
}

TEST_CASE("callback entries are checked") {
  TempDir dir;
  auto [job, diagnostics] = load(dir, R"(trainer:
  callbacks:
    - plugn: prediction_writer
    - plugin: prediction_writer
      init_args: [1, 2]
model: {class_path: protein_encoder}
data: {predict: {fasta: a.fa}}
)");
  const std::string text = diagnostics.format();
  INFO(text);
  CHECK(text.find(":3:7: error: trainer.callbacks[0].plugn: unknown key (did you mean plugin?)") != std::string::npos);
  CHECK(text.find("trainer.callbacks[0].plugin: expected a plugin name") != std::string::npos);
  CHECK(text.find(":5:18: error: trainer.callbacks[1].init_args: expected a mapping") != std::string::npos);
}

// A file that cannot be read as a YAML mapping stops the loading at once:
// there is nothing further to check.
TEST_CASE("YAML syntax errors carry line and column") {
  TempDir dir;
  const std::filesystem::path job = write_file(dir / "job.yaml", "trainer:\n  max_epochs: [1,\n");
  Diagnostics diagnostics;
  CHECK_THROWS_WITH_AS(load_job_config(job, {}, diagnostics), doctest::Contains((job.string() + ":3:1: error: invalid YAML: ").c_str()),
                       ConfigError);
  REQUIRE(diagnostics.items().size() == 1);
}

TEST_CASE("a missing job file, or one that is not a mapping, is one clear error") {
  Diagnostics diagnostics;
  CHECK_THROWS_WITH_AS(load_job_config("/nonexistent/job.yaml", {}, diagnostics),
                       "/nonexistent/job.yaml: error: job file not found; pass an existing YAML file to --config", ConfigError);
  TempDir dir;
  const std::filesystem::path list = write_file(dir / "list.yaml", "- trainer\n- model\n");
  Diagnostics list_diagnostics;
  CHECK_THROWS_WITH_AS(load_job_config(list, {}, list_diagnostics),
                       doctest::Contains("a job file is a mapping with trainer, model and data sections"), ConfigError);
}

TEST_CASE("command-line overrides replace values and are blamed by name") {
  TempDir dir;
  SUBCASE("accepted") {
    auto [job, diagnostics] = load(dir, kGoodJob,
                                   {"--trainer.max_epochs=7", "--trainer.callbacks[0].init_args.output_dir=elsewhere",
                                    "--data.shuffle=true", "--trainer.limit_train_batches=3"});
    CHECK_MESSAGE(diagnostics.empty(), diagnostics.format());
    CHECK(job.trainer.max_epochs == 7);
    CHECK(job.trainer.limit_train_batches == 3);
    CHECK(job.data.shuffle);
    CHECK(job.callbacks[0].init_args["output_dir"].as<std::string>() == "elsewhere");
  }
  SUBCASE("rejected") {
    auto [job, diagnostics] = load(dir, kGoodJob, {"--trainer.max_epochs=x", "--data.predict.fasat=b.fa", "--trainer.callbacks[4].plugin=y", "oops"});
    const std::string text = diagnostics.format();
    INFO(text);
    CHECK(text.find("command line (--trainer.max_epochs=x): error: trainer.max_epochs: expected an integer, got 'x'") != std::string::npos);
    CHECK(text.find("command line (--data.predict.fasat=b.fa): error: data.predict.fasat: unknown key (did you mean fasta?)") != std::string::npos);
    CHECK(text.find("'callbacks' has no item [4]") != std::string::npos);
    CHECK(text.find("command line (oops): error: expected --key.path=value") != std::string::npos);
  }
}

TEST_CASE("closest_match suggests only plausible misspellings") {
  const std::vector<std::string> keys{"write_interval", "output_dir", "overwrite"};
  CHECK(closest_match("write_intervl", keys) == "write_interval");
  CHECK(closest_match("outptu_dir", keys) == "output_dir");
  CHECK(closest_match("completely_different", keys).empty());
}

TEST_CASE("model arguments that do not fit together are located") {
  TempDir dir;
  auto [job, diagnostics] = load(dir, R"(model:
  class_path: protein_encoder
  init_args: {embed_dim: 30, num_heads: 4, mask_prob: 0}
data: {predict: {fasta: a.fa}}
)");
  const std::string text = diagnostics.format();
  INFO(text);
  CHECK(diagnostics.items().size() == 2);
  CHECK(text.find(":3:41: error: model.init_args.num_heads: 4 does not divide embed_dim (30)") != std::string::npos);
  CHECK(text.find(":3:55: error: model.init_args.mask_prob: must be in (0, 1], got 0") != std::string::npos);
}

TEST_CASE("every dataset format has its section shape") {
  TempDir dir;
  auto [job, diagnostics] = load(dir, R"(model: {class_path: protein_encoder}
data:
  batch_size: 4
  train: {table: rows.tsv, targets: [y], class_targets: true, batch_size: 32}
  val: {tensors: val.pt, keys: [features, targets]}
  predict: {synthetic: 1000, num_features: 8, num_classes: 0}
)");
  CHECK_MESSAGE(diagnostics.empty(), diagnostics.format());
  REQUIRE((job.data.train && job.data.val && job.data.predict));
  CHECK(job.data.train->format() == "table");
  CHECK(job.data.train->batch_size == 32);
  CHECK(job.data.train->args.string("delimiter") == "auto");
  CHECK(job.data.train->args.string_list("targets") == StringList{"y"});
  CHECK(job.data.train->args.boolean("class_targets"));
  CHECK(job.data.val->format() == "tensors");
  CHECK(job.data.val->args.string_list("keys") == StringList{"features", "targets"});
  CHECK(job.data.predict->format() == "synthetic");
  CHECK(job.data.predict->args.integer("synthetic") == 1000);
  CHECK(job.data.predict->args.integer("seed") == 0);
  CHECK(describe(*job.data.predict) == "synthetic (1000 samples)");
  CHECK(describe(*job.data.train) == "table rows.tsv");
}

TEST_CASE("dataset sections that name no format, two formats, or sit at the old place are explained") {
  TempDir dir;
  auto [job, diagnostics] = load(dir, R"(model: {class_path: protein_encoder}
data:
  fasta: old.fa
  train: {max_length: 9}
  val: {fasta: a.fa, table: b.csv}
  predict: {synthetic: 10, num_classes: 1}
)");
  const std::string text = diagnostics.format();
  INFO(text);
  CHECK(diagnostics.items().size() == 4);
  CHECK(text.find(":3:10: error: data.fasta: a dataset goes under data.train, data.val or data.predict, e.g. data: "
                  "{predict: {fasta: ...}}") != std::string::npos);
  CHECK(text.find(":4:10: error: data.train: names no dataset format; add one of fasta, table, tensors, synthetic") !=
        std::string::npos);
  CHECK(text.find(":5:8: error: data.val: names 2 formats (fasta, table); a section holds one dataset") != std::string::npos);
  CHECK(text.find(":6:41: error: data.predict.num_classes: must be 0 (regression) or at least 2, got 1") != std::string::npos);
}

TEST_CASE("a TorchScript model is named by its file, with the loss and the batch fields it reads") {
  TempDir dir;
  SUBCASE("accepted, defaults filled in") {
    auto [job, diagnostics] = load(dir, "model: {torchscript: net.pt, loss: mse}\n");
    CHECK_MESSAGE(diagnostics.empty(), diagnostics.format());
    CHECK(job.model.class_path() == "torchscript");
    CHECK(job.model.init_args.string("torchscript") == "net.pt");
    CHECK(job.model.init_args.string("loss") == "mse");
    CHECK_FALSE(job.model.init_args.has("inputs"));  // chosen from the stage's data (job/model_inputs.hpp)
    CHECK(job.model.init_args.string("target") == "targets");
  }
  SUBCASE("rejected") {
    auto [job, diagnostics] = load(dir, "model: {torchscript: net.pt, loss: hinge, class_path: protein_encoder}\n");
    const std::string text = diagnostics.format();
    INFO(text);
    CHECK(text.find(":1:36: error: model.loss: expected one of cross_entropy, mse, module, got 'hinge'") != std::string::npos);
    CHECK(text.find("model.class_path: unknown key") != std::string::npos);
  }
}
