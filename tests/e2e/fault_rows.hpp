#pragma once
// The fault catalogue's rows as data: each a command run in a fresh directory,
// its exit code and what it must say. In a row's text, {dir} is that
// directory, {fasta} the shipped FASTA file and {linear} the folder of a
// scripted nn.Linear(2, 1) with its training table and a tensor file.
#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "e2e/cli_runner.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

namespace minitrain::e2e {

struct FaultRow {
  const char* what;          // the README's row
  const char* writer_args;   // a predict job's writer init_args in {dir}/job.yaml (nullptr: none)
  bool table_job;            // {dir}/table.yaml: fit on the linear model's table, predict on its tensors
  std::vector<std::pair<const char*, const char*>> files;  // written first: path, text
  const char* prepare;       // a Python program run first (nullptr: none)
  const char* command;       // minitrain's arguments
  int exit_code;
  std::vector<const char*> says;
  bool writes_nothing = true;  // neither {dir}/out nor {dir}/run may exist afterwards
};

// A scripted nn.Linear(2, 1) with its training table and a tensor file, made
// by Python once for the whole test binary.
inline const fs::path& linear_model_dir() {
  static const minitrain::testing::TempDir dir;
  static const bool made = [] {
    const Result r = run(fmt::format(
        "{} -c \"import torch; torch.manual_seed(0); torch.jit.save(torch.jit.script(torch.nn.Linear(2, 1)), '{}'); "
        "torch.save({{'features': torch.randn(6, 2)}}, '{}')\"",
        MINITRAIN_PYTHON, (dir / "linear.pt").string(), (dir / "inputs.pt").string()));
    REQUIRE(r.exit_code == 0);
    minitrain::testing::write_file(dir / "train.csv", "a,b,y\n1,2,3\n2,3,5\n3,4,7\n4,5,9\n");
    return true;
  }();
  (void)made;
  return dir.path();
}

// Fit and predict on the linear model; `out` and `run` in `dir` are where anything would go.
inline fs::path table_job(const minitrain::testing::TempDir& dir) {
  return minitrain::testing::write_file(dir / "table.yaml", fmt::format(R"(trainer:
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
                                                                        linear_model_dir().string(), dir.path().string()));
}

inline std::string expand(std::string text, const fs::path& dir) {
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"{dir}", dir.string()},
                                    {"{fasta}", kFasta.string()}, {"{linear}", linear_model_dir().string()}}) {
    for (std::size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size()))
      text.replace(at, name.size(), value);
  }
  return text;
}

// Runs every row, each in a directory of its own; a failure names its row.
inline void check_fault_rows(const std::vector<FaultRow>& rows) {
  for (const FaultRow& row : rows) {
    const std::string row_name = std::string("row: ") + row.what;
    INFO(row_name);
    const minitrain::testing::TempDir dir;
    if (row.writer_args) predict_job(dir, expand(row.writer_args, dir.path()));
    if (row.table_job) table_job(dir);
    for (const auto& [path, text] : row.files) minitrain::testing::write_file(expand(path, dir.path()), expand(text, dir.path()));
    if (row.prepare) {
      const Result prepared = run(fmt::format("{} -c \"{}\"", MINITRAIN_PYTHON, expand(row.prepare, dir.path())));
      REQUIRE(prepared.exit_code == 0);
    }
    const Result r = run_cli(expand(row.command, dir.path()));
    INFO(r.output);
    CHECK(r.exit_code == row.exit_code);
    for (const char* message : row.says) CHECK(r.output.find(expand(message, dir.path())) != std::string::npos);
    if (row.writes_nothing) {
      CHECK_FALSE(fs::exists(dir / "out"));
      CHECK_FALSE(fs::exists(dir / "run"));
    }
  }
}

}  // namespace minitrain::e2e
