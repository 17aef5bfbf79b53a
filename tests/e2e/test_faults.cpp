// The fault catalogue of the README ("When things go wrong"): each row a bad
// input or fault with its message and exit code, leaving nothing half-written.
// The rows that need only a command are data (FaultRow); the rest are subcases
// of the same name. Crashes and signals have test cases of their own
// (test_crash_safety.cpp, test_cli.cpp, test_distributed.cpp).
#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "e2e/cli_runner.hpp"
#include "e2e/fault_rows.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;
using namespace minitrain::e2e;

namespace {

const fs::path kFixtures = MINITRAIN_FIXTURE_DIR;

bool contains(const Result& r, const std::string& text) { return r.output.find(text) != std::string::npos; }

const char* const kWriter = "        output_dir: {dir}/out";
const char* const kPredict = "predict --config {dir}/job.yaml";
const char* const kFitTable = "fit --config {dir}/table.yaml --data.train.table={dir}/table.csv";

}  // namespace

TEST_CASE("fault catalogue: job files and the command line (exit 2, nothing run)") {
  check_fault_rows({
      {"YAML syntax error", nullptr, false, {{"{dir}/job.yaml", "trainer:\n  max_epochs: [1, 2\nmodel: {class_path: protein_encoder}\n"}},
       nullptr, kPredict, 2, {"{dir}/job.yaml:3:6: error: invalid YAML: end of sequence flow not found"}},
      {"job file missing", nullptr, false, {}, nullptr, "predict --config {dir}/nowhere.yaml", 2,
       {"{dir}/nowhere.yaml: error: job file not found; pass an existing YAML file to --config"}},
      {"misspelt key", "        output_dir: {dir}/out\n        write_intervl: batch", false, {}, nullptr, kPredict, 2,
       {"{dir}/job.yaml:6:9: error: trainer.callbacks[0].init_args.write_intervl: unknown key (did you mean write_interval?)"}},
      {"unknown key", kWriter, false, {}, nullptr, "predict --config {dir}/job.yaml --trainer.colour=blue", 2,
       {"command line (--trainer.colour=blue): error: trainer.colour: unknown key; expected one of max_epochs,"}},
      {"missing required key", nullptr, false, {{"{dir}/job.yaml", "trainer: {max_epochs: 1}\n"}}, nullptr, kPredict, 2,
       {"{dir}/job.yaml:1:1: error: model: missing; name the model with class_path: protein_encoder, torchscript: FILE or exported: FILE",
        "{dir}/job.yaml: error: data.predict: predict needs a dataset under data.predict"}},
      {"wrongly typed value", kWriter, false, {}, nullptr, "predict --config {dir}/job.yaml --data.batch_size=sixteen", 2,
       {"command line (--data.batch_size=sixteen): error: data.batch_size: expected an integer, got 'sixteen'"}},
      {"invalid enum value", "        output_dir: {dir}/out\n        write_interval: sometimes", false, {}, nullptr, kPredict, 2,
       {"{dir}/job.yaml:6:25: error: trainer.callbacks[0].init_args.write_interval: expected one of batch, epoch, "
        "batch_and_epoch, got 'sometimes'"}},
      {"value out of range", kWriter, false, {}, nullptr, "predict --config {dir}/job.yaml --data.batch_size=0", 2,
       {"error: data.batch_size: must be at least 1, got 0"}},
      {"value out of range (a plugin's init_args)", "        output_dir: {dir}/out\n        files_per_subdir: 0", false, {},
       nullptr, kPredict, 2, {"{dir}/job.yaml:6:27: error: trainer.callbacks[0].init_args.files_per_subdir: must be at least 1, got 0"}},
      {"two callbacks writing into one output_dir",
       "        output_dir: {dir}/out\n    - plugin: prediction_writer\n      init_args:\n        output_dir: {dir}/./out/",
       false, {}, nullptr, kPredict, 2,
       {"{dir}/job.yaml:8:21: error: trainer.callbacks[1].init_args.output_dir: trainer.callbacks[0] writes into {dir}/out "
        "too; the two would write the same files over each other\n  fix: give each callback its own output_dir"}},
      {"unknown command-line override", kWriter, false, {}, nullptr, "predict --config {dir}/job.yaml --trainer.max_epoch=2", 2,
       {"command line (--trainer.max_epoch=2): error: trainer.max_epoch: unknown key (did you mean max_epochs?)"}},
  });
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
    CHECK(contains(r, "plugins found there: csv_logger, early_stopping, model_checkpoint, prediction_writer, progress_bar, run_report, timer"));
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
  SUBCASE("a plugin built against another LibTorch") {
    const Result r = job_with((kFixtures / "other_torch.so").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "other_torch.so was built against LibTorch 0.1.0, this minitrain uses LibTorch "));
    CHECK(contains(r, "fix: rebuild the plugin against LibTorch"));
    CHECK_FALSE(fs::exists(out));
  }
  SUBCASE("a plugin built against another layout of the events") {
    const Result r = job_with((kFixtures / "other_events.so").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r, "other_events.so was built against another layout of minitrain's events"));
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
  check_fault_rows({
      {"FASTA file missing", kWriter, false, {}, nullptr, "predict --config {dir}/job.yaml --data.predict.fasta={dir}/none.fa",
       1, {"{dir}/none.fa: error: cannot open FASTA file (no such file)"}},
      {"FASTA file empty", kWriter, false, {{"{dir}/empty.fa", ""}}, nullptr,
       "predict --config {dir}/job.yaml --data.predict.fasta={dir}/empty.fa", 1,
       {"{dir}/empty.fa: error: no FASTA records found (the file is empty or has no '>' header)"}},
      {"FASTA file malformed", kWriter, false, {{"{dir}/bad.fa", "MKV\n>first\nMKV\n"}}, nullptr,
       "predict --config {dir}/job.yaml --data.predict.fasta={dir}/bad.fa", 1,
       {"{dir}/bad.fa:1: error: sequence data before the first '>' header line"}},
      {"CSV file missing", nullptr, true, {}, nullptr, "fit --config {dir}/table.yaml --data.train.table={dir}/none.csv", 1,
       {"{dir}/none.csv: error: cannot open table (no such file)"}},
      {"CSV file empty", nullptr, true, {{"{dir}/table.csv", ""}}, nullptr, kFitTable, 1,
       {"{dir}/table.csv: error: the table is empty; it needs a header row naming its columns"}},
      {"CSV cell malformed", nullptr, true, {{"{dir}/table.csv", "a,b,y\n1,2,3\n1,x2,5\n"}}, nullptr, kFitTable, 1,
       {"{dir}/table.csv:3:3: error: 'x2' in column 'b' is not a number"}},
      {"CSV row too short", nullptr, true, {{"{dir}/table.csv", "a,b,y\n1,2,3\n1,2\n"}}, nullptr, kFitTable, 1,
       {"{dir}/table.csv:3: error: 2 cells, but the header has 3 columns"}},
      {"tensor file missing", nullptr, true, {}, nullptr, "predict --config {dir}/table.yaml --data.predict.tensors={dir}/none.pt",
       1, {"{dir}/none.pt: error: tensor file not found"}},
      {"tensor file with tensors of different lengths", nullptr, true, {},
       "import torch; torch.save({'a': torch.zeros(3, 2), 'b': torch.zeros(4)}, '{dir}/ragged.pt')",
       "predict --config {dir}/table.yaml --data.predict.tensors={dir}/ragged.pt", 1,
       {"{dir}/ragged.pt: error: tensor 'b' has 4 rows but 'a' has 3; every tensor needs one row per sample"}},
      {"samples sharing an ID, with duplicate_ids: error", kWriter, false, {{"{dir}/dup.fa", ">P1 a\nMKV\n>P2\nMK\n>P1 b\nMV\n"}},
       nullptr, "predict --config {dir}/job.yaml --data.predict.fasta={dir}/dup.fa --data.predict.duplicate_ids=error", 1,
       {"{dir}/dup.fa: error: 1 sample(s) repeat an earlier sample's ID, e.g. 'P1' (samples 0 and 2); predictions joined to "
        "inputs by ID would be ambiguous\n  fix: make the IDs unique, or set data.predict.duplicate_ids: warn to accept them"}},
      {"CSV sample ID empty", nullptr, true, {{"{dir}/table.csv", "name,a,b,y\nP1,1,2,3\n\"\",1,2,5\n"}}, nullptr,
       "fit --config {dir}/table.yaml --data.train.table={dir}/table.csv --data.train.id_column=name", 1,
       {"{dir}/table.csv:3:2: error: empty sample ID in column 'name'; every row needs one"}},
      {"tensor file IDs that are not strings", nullptr, true, {},
       "import torch; torch.save({'features': torch.zeros(2, 2), 'names': [1.5, 2.5]}, '{dir}/ids.pt')",
       "predict --config {dir}/table.yaml --data.predict.tensors={dir}/ids.pt --data.predict.ids_key=names", 1,
       {"{dir}/ids.pt: error: ids_key 'names' is a list holding a Double; sample IDs are strings"}},
  });
  SUBCASE("samples sharing an ID (a warning by default)") {
    TempDir dir;
    write_file(dir / "dup.fa", ">P1\nMKV\n>P1\nMK\n");
    const Result r = run_cli(fmt::format("predict --config {} --data.predict.fasta={}", predict_job(dir, expand(kWriter, dir.path())).string(),
                                         (dir / "dup.fa").string()));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(contains(r, "dup.fa: 1 sample(s) repeat an earlier sample's ID, e.g. 'P1' (samples 0 and 1); predictions joined "
                      "to inputs by ID would be ambiguous (set data.predict.duplicate_ids: error to refuse such data)"));
    CHECK(fs::exists(dir / "out" / "predictions__rank_0__batch_0.pt"));
  }
  SUBCASE("tensor file corrupt") {
    TempDir dir;
    table_job(dir);
    const Result r = run_cli(fmt::format("predict --config {} --data.predict.tensors={}", (dir / "table.yaml").string(),
                                         write_file(dir / "corrupt.pt", "not a zip archive").string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, (dir / "corrupt.pt").string() + ": error: not a readable torch.save file: PytorchStreamReader failed "
                                                       "reading zip archive: not a ZIP archive"));
    CHECK(r.output.find("error:") == r.output.rfind("error:"));  // said once, not wrapped in a second message
    CHECK_FALSE(fs::exists(dir / "out"));
  }
}

TEST_CASE("fault catalogue: models and checkpoints (exit 1, nothing written)") {
  check_fault_rows({
      {"checkpoint missing", kWriter, false, {}, nullptr, "predict --config {dir}/job.yaml --ckpt_path={dir}/none.pt", 1,
       {"{dir}/none.pt: error: no such file"}},
      {"checkpoint corrupt", kWriter, false, {{"{dir}/garbage.pt", "garbage"}}, nullptr,
       "predict --config {dir}/job.yaml --ckpt_path={dir}/garbage.pt", 1, {"{dir}/garbage.pt: error: not a readable torch.save file"}},
      {"checkpoint of another model", nullptr, true, {}, "import torch; torch.save({'weight': torch.zeros(3, 3)}, '{dir}/other.pt')",
       "predict --config {dir}/table.yaml --ckpt_path={dir}/other.pt", 1,
       {"{dir}/other.pt: error: these weights do not fit the model.\n  missing: bias\n  unexpected: none\n  wrong shape: weight "
        "(file [3, 3], model [1, 2])"}},
      {"TorchScript model missing", nullptr, true, {}, nullptr, "predict --config {dir}/table.yaml --model.torchscript={dir}/none.pt",
       1, {"{dir}/none.pt: error: TorchScript file not found"}},
      {"TorchScript model corrupt", nullptr, true, {{"{dir}/bad_model.pt", "garbage"}}, nullptr,
       "predict --config {dir}/table.yaml --model.torchscript={dir}/bad_model.pt", 1,
       {"{dir}/bad_model.pt: error: not a TorchScript file (PytorchStreamReader failed"}},
  });
  SUBCASE("checkpoint truncated") {
    TempDir dir;
    const fs::path linear = table_job(dir);
    const Result fit = run_cli(fmt::format("fit --config {}", linear.string()));
    REQUIRE(fit.exit_code == 0);
    const std::string whole = minitrain::testing::read_file(dir / "run" / "checkpoints" / "last.pt");
    const fs::path cut = write_file(dir / "cut.pt", whole.substr(0, whole.size() / 2));
    fs::remove_all(dir / "out");
    const Result r = run_cli(fmt::format("predict --config {} --ckpt_path={}", linear.string(), cut.string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r, cut.string() + ": error: not a readable torch.save file"));
    CHECK_FALSE(fs::exists(dir / "out"));
  }
}

TEST_CASE("fault catalogue: predictions a lossy dtype would alter") {
  const char* const big = "import torch; torch.save({'features': torch.full((4, 2), 1e6)}, '{dir}/big.pt')";
  check_fault_rows({
      {"a dtype that overflows predictions, with lossy_dtype: error", nullptr, true, {}, big,
       "predict --config {dir}/table.yaml --data.predict.tensors={dir}/big.pt --trainer.callbacks[0].init_args.dtype=float16 "
       "--trainer.callbacks[0].init_args.lossy_dtype=error",
       1,
       {"prediction_writer: dtype float16 would alter batch 0's predictions: prediction: 2 of 2 values overflowed to inf, 0 "
        "flushed to zero\n  fix: use dtype: bfloat16 (float32's range) or null, or lossy_dtype: warn to write them anyway"},
       /*writes_nothing=*/false},
  });
  SUBCASE("a dtype that overflows predictions (a warning by default)") {
    TempDir dir;
    const fs::path job = table_job(dir);
    REQUIRE(run(fmt::format("{} -c \"import torch; torch.save({{'features': torch.full((4, 2), 1e6)}}, '{}')\"",
                            MINITRAIN_PYTHON, (dir / "big.pt").string()))
                .exit_code == 0);
    const Result r = run_cli(fmt::format("predict --config {} --data.predict.tensors={} --trainer.callbacks[0].init_args.dtype=float16",
                                         job.string(), (dir / "big.pt").string()));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(contains(r, "prediction_writer: dtype float16 altered the predictions written: prediction: 4 of 4 values "
                      "overflowed to inf, 0 flushed to zero; use dtype: bfloat16"));
    CHECK(fs::exists(dir / "out" / "predictions__rank_0__batch_1.pt"));
  }
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

TEST_CASE("fault catalogue: install_deps.sh on a release it does not know installs nothing") {
  TempDir dir;
  const fs::path os_release = minitrain::testing::write_file(dir / "os-release", "ID=debian\nVERSION_CODENAME=bullseye\n");
  const Result r = run("MINITRAIN_OS_RELEASE=" + os_release.string() + " bash third_party/install_deps.sh");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("install_deps: Debian 'bullseye' is not supported; minitrain is built and tested on Debian 12 "
                      "(bookworm) and Debian 13 (trixie)") != std::string::npos);
  CHECK(r.output.find("installing") == std::string::npos);
}
