// The fault catalogue of the README ("When things go wrong"), one subcase per
// row: each bad input or fault gives its message, its exit code, and leaves
// nothing half-written. Crashes and signals have test cases of their own
// (test_crash_safety.cpp, test_cli.cpp, test_distributed.cpp).
#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "e2e/cli_runner.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;
using namespace minitrain::e2e;

namespace {

const fs::path kFixtures = MINITRAIN_FIXTURE_DIR;

bool contains(const Result& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

// A scripted nn.Linear(2, 1) with its training table and a tensor file, made
// by Python once for the whole test binary.
const fs::path& table_model_dir() {
  static const TempDir dir;
  static const bool made = [] {
    const Result r = run(fmt::format(
        "{} -c \"import torch; torch.manual_seed(0); torch.jit.save(torch.jit.script(torch.nn.Linear(2, 1)), '{}'); "
        "torch.save({{'features': torch.randn(6, 2)}}, '{}')\"",
        MINITRAIN_PYTHON, (dir / "linear.pt").string(), (dir / "inputs.pt").string()));
    REQUIRE(r.exit_code == 0);
    write_file(dir / "train.csv", "a,b,y\n1,2,3\n2,3,5\n3,4,7\n4,5,9\n");
    return true;
  }();
  (void)made;
  return dir.path();
}

// Fit and predict on the linear model; `out` is where anything would go.
fs::path table_job(const TempDir& dir) {
  const fs::path model = table_model_dir();
  return write_file(dir / "table.yaml", fmt::format(R"(trainer:
  max_epochs: 2
  default_root_dir: {1}/run
  callbacks:
    - plugin: prediction_writer
      init_args: {{output_dir: {1}/out}}
model: {{torchscript: {0}/linear.pt, loss: mse}}
optimizer: {{class_path: sgd, init_args: {{lr: 0.01}}}}
data:
  batch_size: 2
  train: {{table: {0}/train.csv, targets: [y]}}
  predict: {{tensors: {0}/inputs.pt}}
)",
                                                  model.string(), dir.path().string()));
}

}  // namespace

TEST_CASE("fault catalogue: job files and the command line (exit 2, nothing run)") {
  TempDir dir;
  const fs::path out = dir / "out";
  const std::string job_path = (dir / "job.yaml").string();
  auto predict = [&](const std::string& extra = "") { return run_cli("predict --config " + job_path + extra); };

  SUBCASE("YAML syntax error") {
    write_file(job_path, "trainer:\n  max_epochs: [1, 2\nmodel: {class_path: protein_encoder}\n");
    const Result r = predict();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, job_path + ":3:6: error: invalid YAML: end of sequence flow not found"));
  }
  SUBCASE("job file missing") {
    const Result r = run_cli("predict --config " + (dir / "nowhere.yaml").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, (dir / "nowhere.yaml").string() + ": error: job file not found; pass an existing YAML file to --config"));
  }
  SUBCASE("misspelt key") {
    predict_job(dir, fmt::format("        output_dir: {}\n        write_intervl: batch", out.string()));
    const Result r = predict();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, job_path + ":6:9: error: trainer.callbacks[0].init_args.write_intervl: unknown key (did you mean write_interval?)"));
  }
  SUBCASE("unknown key") {
    predict_job(dir, fmt::format("        output_dir: {}", out.string()));
    const Result r = predict(" --trainer.colour=blue");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "command line (--trainer.colour=blue): error: trainer.colour: unknown key; expected one of max_epochs,"));
  }
  SUBCASE("missing required key") {
    write_file(job_path, "trainer: {max_epochs: 1}\n");
    const Result r = predict();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, job_path + ":1:1: error: model: missing; name the model with class_path: protein_encoder or torchscript: FILE"));
    CHECK(contains(r, job_path + ": error: data.predict: predict needs a dataset under data.predict"));
  }
  SUBCASE("wrongly typed value") {
    predict_job(dir, fmt::format("        output_dir: {}", out.string()));
    const Result r = predict(" --data.batch_size=sixteen");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "command line (--data.batch_size=sixteen): error: data.batch_size: expected an integer, got 'sixteen'"));
  }
  SUBCASE("invalid enum value") {
    predict_job(dir, fmt::format("        output_dir: {}\n        write_interval: sometimes", out.string()));
    const Result r = predict();
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, job_path + ":6:25: error: trainer.callbacks[0].init_args.write_interval: expected one of batch, epoch, "
                                 "batch_and_epoch, got 'sometimes'"));
  }
  SUBCASE("value out of range") {
    predict_job(dir, fmt::format("        output_dir: {}", out.string()));
    const Result r = predict(" --data.batch_size=0");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "error: data.batch_size: must be at least 1, got 0"));
  }
  SUBCASE("unknown command-line override") {
    predict_job(dir, fmt::format("        output_dir: {}", out.string()));
    const Result r = predict(" --trainer.max_epoch=2");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "command line (--trainer.max_epoch=2): error: trainer.max_epoch: unknown key (did you mean max_epochs?)"));
  }
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("fault catalogue: plugins") {
  TempDir dir;
  const fs::path out = dir / "out";
  const std::string job_path = (dir / "job.yaml").string();
  auto job_with = [&](const std::string& plugin) {
    write_file(job_path, fmt::format(R"(trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {{output_dir: {}, write_interval: batch}}
    - plugin: {}
model:
  class_path: protein_encoder
  init_args: {{embed_dim: 16, num_heads: 2, num_layers: 1, ff_dim: 32}}
data:
  batch_size: 16
  predict: {{fasta: {}}}
)",
                                     out.string(), plugin, kFasta.string()));
    return run_cli("predict --config " + job_path);
  };

  SUBCASE("plugin name not found") {
    const Result r = job_with("prediction_writter");
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, job_path + ":5:15: error: trainer.callbacks[1].plugin: plugin 'prediction_writter' not found (did you "
                                 "mean prediction_writer?)"));
    CHECK(contains(r, "looked in:"));
    CHECK(contains(r, "plugins found there: csv_logger, early_stopping, model_checkpoint, prediction_writer, progress_bar, timer"));
    CHECK_FALSE(fs::exists(out));
  }
  SUBCASE("a .so that is not a plugin") {
    const Result r = job_with((kFixtures / "no_hook.so").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "no_hook.so is not a minitrain plugin: it has no minitrain_plugin_handshake symbol"));
    CHECK(contains(r, "fix: register the callback with MINITRAIN_REGISTER_PLUGIN"));
    CHECK_FALSE(fs::exists(out));
  }
  SUBCASE("a plugin built for another ABI") {
    const Result r = job_with((kFixtures / "wrong_abi.so").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "wrong_abi.so was built for plugin ABI version 999, this minitrain uses version "));
    CHECK(contains(r, "fix: rebuild the plugin against this minitrain's headers"));
    CHECK_FALSE(fs::exists(out));
  }
  SUBCASE("a plugin others could replace") {
    fs::copy_file(kFixtures / "throwing_event.so", dir / "libshared.so");
    fs::permissions(dir / "libshared.so", fs::perms::others_write, fs::perm_options::add);
    const Result r = job_with((dir / "libshared.so").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "refused to load " + (dir / "libshared.so").string() + ": the file is world-writable"));
    CHECK_FALSE(fs::exists(out));
  }
  SUBCASE("a plugin that throws on creation") {
    const Result r = job_with((kFixtures / "throwing_ctor.so").string());
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, job_path + ":5:15: error: trainer.callbacks[1]: plugin 'throwing_ctor' failed to start: cannot open the database"));
    CHECK(files_in(out) == 0);
  }
  SUBCASE("a plugin that throws in an event") {
    const Result r = job_with((kFixtures / "throwing_event.so").string());
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, "minitrain: error: lost the connection to the metrics server"));
    // The writer, first in the list, had written batches 0 and 1; both are complete.
    CHECK(files_in(out) == 2);
    const Result loads = run(fmt::format("{} -c \"import glob, torch; [torch.load(f) for f in glob.glob('{}/*')]\"",
                                         MINITRAIN_PYTHON, out.string()));
    CHECK(loads.exit_code == 0);
  }
}

TEST_CASE("fault catalogue: output directories (exit 1, nothing written)") {
  TempDir dir;
  const fs::path out = dir / "out";
  const std::string job_path = (dir / "job.yaml").string();

  SUBCASE("output_dir is a file") {
    write_file(out, "x");
    predict_job(dir, fmt::format("        output_dir: {}", out.string()));
    const Result r = run_cli("predict --config " + job_path);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, "prediction_writer: output_dir " + out.string() + " exists and is not a directory"));
    CHECK(minitrain::testing::read_file(out) == "x");
    return;
  }
  SUBCASE("output_dir below a file") {
    write_file(dir / "a_file", "x");
    predict_job(dir, fmt::format("        output_dir: {}", (dir / "a_file" / "out").string()));
    const Result r = run_cli("predict --config " + job_path);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, "output_dir " + (dir / "a_file" / "out").string() + " cannot be written"));
    CHECK(minitrain::testing::read_file(dir / "a_file") == "x");
  }
  SUBCASE("output_dir where no directory can be made") {
    predict_job(dir, "        output_dir: /proc/minitrain_predictions");
    const Result r = run_cli("predict --config " + job_path);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, "output_dir /proc/minitrain_predictions cannot be written"));
    CHECK_FALSE(fs::exists("/proc/minitrain_predictions"));
  }
  SUBCASE("output_dir already holds predictions") {
    fs::create_directories(out);
    write_file(out / "predictions__rank_0__batch_0.pt", "an earlier run's file");
    predict_job(dir, fmt::format("        output_dir: {}", out.string()));
    const Result r = run_cli("predict --config " + job_path);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, "already holds 1 prediction file(s), e.g. predictions__rank_0__batch_0.pt"));
    CHECK(contains(r, "set overwrite: true"));
    CHECK(files_in(out) == 1);
    CHECK(minitrain::testing::read_file(out / "predictions__rank_0__batch_0.pt") == "an earlier run's file");
    return;
  }
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("fault catalogue: data files (exit 1, nothing written)") {
  TempDir dir;
  const fs::path out = dir / "out";
  const std::string job_path = (dir / "job.yaml").string();
  predict_job(dir, fmt::format("        output_dir: {}", out.string()));
  auto predict_fasta = [&](const fs::path& fasta) {
    return run_cli(fmt::format("predict --config {} --data.predict.fasta={}", job_path, fasta.string()));
  };
  const fs::path linear = table_job(dir);
  auto fit_table = [&](const std::string& text) {
    write_file(dir / "table.csv", text);
    return run_cli(fmt::format("fit --config {} --data.train.table={}", linear.string(), (dir / "table.csv").string()));
  };
  auto predict_tensors = [&](const fs::path& file) {
    return run_cli(fmt::format("predict --config {} --data.predict.tensors={}", linear.string(), file.string()));
  };

  SUBCASE("FASTA file missing") {
    const Result r = predict_fasta(dir / "none.fa");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "none.fa").string() + ": error: cannot open FASTA file (no such file)"));
  }
  SUBCASE("FASTA file empty") {
    const Result r = predict_fasta(write_file(dir / "empty.fa", ""));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "empty.fa").string() + ": error: no FASTA records found (the file is empty or has no '>' header)"));
  }
  SUBCASE("FASTA file malformed") {
    const Result r = predict_fasta(write_file(dir / "bad.fa", "MKV\n>first\nMKV\n"));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "bad.fa").string() + ":1: error: sequence data before the first '>' header line"));
  }
  SUBCASE("CSV file missing") {
    const Result r = run_cli(fmt::format("fit --config {} --data.train.table={}", linear.string(), (dir / "none.csv").string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "none.csv").string() + ": error: cannot open table (no such file)"));
  }
  SUBCASE("CSV file empty") {
    const Result r = fit_table("");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "table.csv").string() + ": error: the table is empty; it needs a header row naming its columns"));
  }
  SUBCASE("CSV cell malformed") {
    const Result r = fit_table("a,b,y\n1,2,3\n1,x2,5\n");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "table.csv").string() + ":3:3: error: 'x2' in column 'b' is not a number"));
  }
  SUBCASE("CSV row too short") {
    const Result r = fit_table("a,b,y\n1,2,3\n1,2\n");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "table.csv").string() + ":3: error: 2 cells, but the header has 3 columns"));
  }
  SUBCASE("tensor file missing") {
    const Result r = predict_tensors(dir / "none.pt");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "none.pt").string() + ": error: tensor file not found"));
  }
  SUBCASE("tensor file corrupt") {
    const Result r = predict_tensors(write_file(dir / "corrupt.pt", "not a zip archive"));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "corrupt.pt").string() + ": error: not a readable torch.save file: PytorchStreamReader failed "
                                                       "reading zip archive: not a ZIP archive"));
    CHECK(r.output.find("error:") == r.output.rfind("error:"));  // said once, not wrapped in a second message
  }
  SUBCASE("tensor file with tensors of different lengths") {
    const Result made = run(fmt::format("{} -c \"import torch; torch.save({{'a': torch.zeros(3, 2), 'b': torch.zeros(4)}}, '{}')\"",
                                        MINITRAIN_PYTHON, (dir / "ragged.pt").string()));
    REQUIRE(made.exit_code == 0);
    const Result r = predict_tensors(dir / "ragged.pt");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "ragged.pt").string() + ": error: tensor 'b' has 4 rows but 'a' has 3; every tensor needs one row per sample"));
  }
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(dir / "run"));
}

TEST_CASE("fault catalogue: models and checkpoints (exit 1, nothing written)") {
  TempDir dir;
  const fs::path out = dir / "out";
  const std::string job_path = (dir / "job.yaml").string();
  predict_job(dir, fmt::format("        output_dir: {}", out.string()));
  auto predict_from = [&](const fs::path& checkpoint) {
    return run_cli(fmt::format("predict --config {} --ckpt_path={}", job_path, checkpoint.string()));
  };
  const fs::path linear = table_job(dir);

  SUBCASE("checkpoint missing") {
    const Result r = predict_from(dir / "none.pt");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "none.pt").string() + ": error: no such file"));
  }
  SUBCASE("checkpoint corrupt") {
    const Result r = predict_from(write_file(dir / "garbage.pt", "garbage"));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "garbage.pt").string() + ": error: not a readable torch.save file"));
  }
  SUBCASE("checkpoint truncated") {
    const Result fit = run_cli(fmt::format("fit --config {}", linear.string()));
    REQUIRE(fit.exit_code == 0);
    const fs::path last = dir / "run" / "checkpoints" / "last.pt";
    const std::string whole = minitrain::testing::read_file(last);
    const fs::path cut = write_file(dir / "cut.pt", whole.substr(0, whole.size() / 2));
    const Result r = run_cli(fmt::format("predict --config {} --ckpt_path={}", linear.string(), cut.string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, cut.string() + ": error: not a readable torch.save file"));
    fs::remove_all(dir / "run");
  }
  SUBCASE("checkpoint of another model") {
    const Result made = run(fmt::format("{} -c \"import torch; torch.save({{'weight': torch.zeros(3, 3)}}, '{}')\"",
                                        MINITRAIN_PYTHON, (dir / "other.pt").string()));
    REQUIRE(made.exit_code == 0);
    const Result r = run_cli(fmt::format("predict --config {} --ckpt_path={}", linear.string(), (dir / "other.pt").string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "other.pt").string() + ": error: these weights do not fit the model.\n  missing: bias\n  "
                                                     "unexpected: none\n  wrong shape: weight (file [3, 3], model [1, 2])"));
  }
  SUBCASE("TorchScript model missing") {
    const Result r = run_cli(fmt::format("predict --config {} --model.torchscript={}", linear.string(), (dir / "none.pt").string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "none.pt").string() + ": error: TorchScript file not found"));
  }
  SUBCASE("TorchScript model corrupt") {
    const Result r = run_cli(fmt::format("predict --config {} --model.torchscript={}", linear.string(),
                                         write_file(dir / "bad_model.pt", "garbage").string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "bad_model.pt").string() + ": error: not a TorchScript file (PytorchStreamReader failed"));
  }
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(dir / "run"));
}

TEST_CASE("fault catalogue: a NaN or infinite loss stops fit by default, or is skipped when asked") {
  TempDir dir;
  const fs::path linear = table_job(dir);
  // 1e39 is beyond float32: the target, and so the loss of its batch, is infinite.
  write_file(dir / "table.csv", "a,b,y\n1,2,3\n2,3,1e39\n3,4,7\n4,5,9\n");
  const std::string fit = fmt::format("fit --config {} --data.train.table={}", linear.string(), (dir / "table.csv").string());

  SUBCASE("on_nonfinite_loss: error (the default)") {
    const Result r = run_cli(fit);
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, "the loss is inf at epoch 0, batch 0; lower the learning rate or check the data "
                      "(trainer.on_nonfinite_loss: skip_batch leaves such batches out instead)"));
    CHECK_FALSE(fs::exists(dir / "run" / "checkpoints" / "weights.pt"));
  }
  SUBCASE("on_nonfinite_loss: skip_batch") {
    const Result r = run_cli(fit + " --trainer.on_nonfinite_loss=skip_batch");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(contains(r, "the loss is inf at epoch 0, batch 0: batch skipped (trainer.on_nonfinite_loss: skip_batch)"));
    CHECK(contains(r, "epoch 1: 1 of 2 batch(es) skipped for a non-finite loss"));
    const Result finite = run(fmt::format("{} -c \"import torch; w = torch.load('{}'); assert all(torch.isfinite(t).all() for t in "
                                          "w.values()), w\"",
                                          MINITRAIN_PYTHON, (dir / "run" / "checkpoints" / "weights.pt").string()));
    INFO(finite.output);
    CHECK(finite.exit_code == 0);
  }
}
