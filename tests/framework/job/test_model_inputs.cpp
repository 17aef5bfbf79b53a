#include "minitrain/job/model_inputs.hpp"

#include "minitrain/base/error.hpp"
#include "minitrain/data/synthetic_dataset.hpp"
#include "minitrain/data/tensor_dataset.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;

namespace {

struct Checked {
  JobConfig job;
  Diagnostics diagnostics;
};

Checked check(const TempDir& dir, const std::string& text, Stage stage) {
  Checked out;
  out.job = load_job_config(write_file(dir / "job.yaml", text), {}, out.diagnostics);
  REQUIRE_MESSAGE(out.diagnostics.empty(), out.diagnostics.format());
  choose_model_inputs(out.job, stage, out.diagnostics);
  return out;
}

}  // namespace

TEST_CASE("a forward model's inputs are chosen from the data: input_ids for sequences, features for tables") {
  TempDir dir;
  auto fasta = check(dir, "model: {torchscript: m.pt}\ndata: {predict: {fasta: seqs.fa}}\n", Stage::predict);
  CHECK(fasta.diagnostics.empty());
  CHECK(fasta.job.model.init_args.string_list("inputs") == StringList{"input_ids"});
  CHECK(to_yaml(fasta.job).find("inputs: [input_ids]") != std::string::npos);  // --print-config shows them

  auto table = check(dir, "model: {torchscript: m.pt, loss: mse}\ndata: {train: {table: t.csv, targets: [y]}}\n", Stage::fit);
  CHECK(table.diagnostics.empty());
  CHECK(table.job.model.init_args.string_list("inputs") == StringList{"features"});

  auto given = check(dir, "model: {torchscript: m.pt, inputs: [attention_mask, input_ids]}\ndata: {predict: {fasta: s.fa}}\n",
                     Stage::predict);
  CHECK(given.diagnostics.empty());
  CHECK(given.job.model.init_args.string_list("inputs") == StringList{"attention_mask", "input_ids"});

  auto builtin = check(dir, "model: {class_path: protein_encoder}\ndata: {predict: {fasta: s.fa}}\n", Stage::predict);
  CHECK(builtin.diagnostics.empty());
  CHECK_FALSE(builtin.job.model.init_args.values().count("inputs"));  // not a forward model
}

TEST_CASE("inputs and the loss's target the data does not have stop the job check, listing the fields there are") {
  TempDir dir;
  auto wrong = check(dir, "model: {torchscript: m.pt, inputs: [features]}\ndata: {predict: {fasta: s.fa}}\n", Stage::predict);
  CHECK(wrong.diagnostics.format().find(
            "job.yaml:1:36: error: model.inputs: 'features' is not a field of data.predict (fasta s.fa), whose batches hold "
            "input_ids, attention_mask; list the fields forward takes, e.g. model.inputs: [input_ids]") != std::string::npos);

  auto target = check(dir, "model: {torchscript: m.pt, loss: mse}\ndata: {train: {fasta: s.fa}}\n", Stage::fit);
  CHECK(target.diagnostics.format().find("model.target: fit compares forward's output with 'targets', which is not a "
                                         "field of data.train (fasta s.fa)") != std::string::npos);
  // Predict has no loss, so no target to find.
  CHECK(check(dir, "model: {torchscript: m.pt, loss: mse}\ndata: {predict: {fasta: s.fa}}\n", Stage::predict)
            .diagnostics.empty());

  // fit validates too: data.val must have the inputs data.train chose.
  auto val = check(dir, "model: {torchscript: m.pt, loss: mse}\ndata: {train: {synthetic: 8}, val: {fasta: s.fa}}\n",
                   Stage::fit);
  CHECK(val.diagnostics.format().find("model.inputs: 'features' is not a field of data.val (fasta s.fa)") != std::string::npos);
}

TEST_CASE("a tensor file's fields are known once it is read: inputs chosen or refused then") {
  TempDir dir;
  auto unknown = check(dir, "model: {torchscript: m.pt}\ndata: {predict: {tensors: x.pt}}\n", Stage::predict);
  CHECK(unknown.diagnostics.empty());
  CHECK_FALSE(unknown.job.model.init_args.has("inputs"));
  const SyntheticDataset features(4, 3, 2, 0);  // features and targets
  choose_model_inputs(unknown.job, Stage::predict, *unknown.job.data.predict, features);
  CHECK(unknown.job.model.init_args.string_list("inputs") == StringList{"features"});

  auto neither = check(dir, "model: {torchscript: m.pt}\ndata: {predict: {tensors: x.pt}}\n", Stage::predict);
  const TensorDataset other({{"embedding", at::zeros({4, 2})}});
  CHECK_THROWS_WITH_AS(choose_model_inputs(neither.job, Stage::predict, *neither.job.data.predict, other),
                       doctest::Contains("job.yaml:1:8: error: model.inputs: not given, and the batches of data.predict "
                                         "(tensors x.pt) hold embedding, neither input_ids nor features"),
                       ConfigError);
}
