#include "minitrain/job/job_files.hpp"

#include "minitrain/base/error.hpp"
#include "minitrain/job/config.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;

namespace {

const char* kBase = R"(trainer:
  max_epochs: 2
  callbacks:
    - plugin: prediction_writer
      init_args: {output_dir: out}
model:
  class_path: protein_encoder
  init_args: {embed_dim: 32, num_heads: 4}
data:
  batch_size: 4
  predict: {fasta: seqs.fa, max_length: 128}
)";

}  // namespace

TEST_CASE("later job files replace earlier values key by key, lists whole") {
  TempDir dir;
  const auto base = write_file(dir / "base.yaml", kBase);
  const auto later = write_file(dir / "later.yaml", R"(trainer:
  callbacks: [{plugin: progress_log}]
model:
  init_args: {num_heads: 2}
data:
  predict: {padding: max_length}
)");
  Diagnostics diagnostics;
  const JobConfig job = load_job_config({base, later}, {"--data.batch_size=2"}, diagnostics);
  REQUIRE(diagnostics.empty());
  CHECK(job.trainer.max_epochs == 2);  // kept from base.yaml
  REQUIRE(job.callbacks.size() == 1);  // the list is replaced, not appended to
  CHECK(job.callbacks[0].plugin == "progress_log");
  CHECK(job.model.init_args.integer("embed_dim") == 32);
  CHECK(job.model.init_args.integer("num_heads") == 2);
  CHECK(job.data.batch_size == 2);  // the override comes last
  REQUIRE(job.data.predict);
  CHECK(job.data.predict->args.string("fasta") == "seqs.fa");
  CHECK(job.data.predict->args.integer("max_length") == 128);
  CHECK(job.data.predict->args.string("padding") == "max_length");
  // Each key once in the printed job, with the value in force.
  const std::string printed = to_yaml(job);
  CHECK(printed.find("num_heads: 2") != std::string::npos);
  CHECK(printed.find("num_heads: 4") == std::string::npos);
}

TEST_CASE("an error names the job file, line and column its value came from") {
  TempDir dir;
  const auto base = write_file(dir / "base.yaml", kBase);
  const auto later = write_file(dir / "later.yaml", "model:\n  init_args: {num_heads: 0, n_layers: 1}\ndata:\n  predict: {max_length: 2}\n");
  Diagnostics diagnostics;
  load_job_config({base, later}, {}, diagnostics);
  const std::string text = diagnostics.format();
  CHECK(text.find(later.string() + ":2:29: error: model.init_args.n_layers: unknown key (did you mean num_layers?)") !=
        std::string::npos);
  CHECK(text.find(later.string() + ":4:25: error: data.predict.max_length: must be at least 3") != std::string::npos);
  // A value of the base file under a merged mapping still names the base file.
  Diagnostics base_diagnostics;
  const auto typo = write_file(dir / "typo.yaml", std::string(kBase) + "seed_everything: x\n");
  load_job_config({typo, later}, {}, base_diagnostics);
  CHECK(base_diagnostics.format().find(typo.string() + ":12:18: error: seed_everything") != std::string::npos);
}

TEST_CASE("a later value replacing a whole section is located in the later file") {
  TempDir dir;
  const auto base = write_file(dir / "base.yaml", kBase);
  const auto later = write_file(dir / "later.yaml", "data:\n  predict: [seqs.fa]\n");
  Diagnostics diagnostics;
  load_job_config({base, later}, {}, diagnostics);
  CHECK(diagnostics.format().find(later.string() + ":2:12: error: data.predict: expected a dataset") != std::string::npos);
}

TEST_CASE("every job file is checked before merging: missing, invalid YAML, not a mapping") {
  TempDir dir;
  const auto base = write_file(dir / "base.yaml", kBase);
  JobSource source;
  Diagnostics missing;
  CHECK_THROWS_AS(load_job_files({base, dir / "none.yaml"}, source, missing), ConfigError);
  CHECK(missing.format().find((dir / "none.yaml").string() + ": error: job file not found") != std::string::npos);
  Diagnostics invalid;
  const auto broken = write_file(dir / "broken.yaml", "data: {predict: [\n");
  CHECK_THROWS_AS(load_job_files({base, broken}, source, invalid), ConfigError);
  CHECK(invalid.format().find(broken.string() + ":2:1: error: invalid YAML") != std::string::npos);
  Diagnostics list;
  const auto items = write_file(dir / "list.yaml", "- a\n- b\n");
  CHECK_THROWS_AS(load_job_files({base, items}, source, list), ConfigError);
  CHECK(list.format().find(items.string() + ":1:1: error: a job file is a mapping") != std::string::npos);
}
