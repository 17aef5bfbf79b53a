// Inputs as users have them: gzip-compressed FASTA and tables, a table's
// sequence column and an indexed FASTA file give the same predictions as the
// plain FASTA file; job files compose; damaged inputs are refused.
#include "cli_runner.hpp"
#include "fault_rows.hpp"

namespace minitrain::e2e {

namespace {

// True when every tensor and the ids of the two collected files are equal.
Result same_predictions(const fs::path& a, const fs::path& b) {
  return run(fmt::format("{} -c \"import sys, torch; a, b = (torch.load(p) for p in sys.argv[1:]); assert sorted(a) == "
                         "sorted(b); assert a.pop('ids') == b.pop('ids'); assert all(torch.equal(a[k], b[k]) for k in a); "
                         "print('same', len(a), 'keys')\" {} {}",
                         MINITRAIN_PYTHON, a.string(), b.string()));
}

// Predicts with `job` and `data_override`, then collects into {dir}/{name}.pt.
void predict_and_collect(const TempDir& dir, const fs::path& job, const std::string& name, const std::string& extra,
                         const char* expected_log = nullptr) {
  const Result r = run_cli(fmt::format("predict --config {0} --seed_everything=5 {2} "
                                       "--trainer.callbacks[0].init_args.output_dir={1}/out_{3}",
                                       job.string(), dir.path().string(), extra, name));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("45 samples from") != std::string::npos);
  if (expected_log) CHECK(r.output.find(expected_log) != std::string::npos);
  REQUIRE(run_cli(fmt::format("collect --input {0}/out_{1} --output {0}/{1}.pt", dir.path().string(), name)).exit_code == 0);
}

void check_same(const fs::path& a, const fs::path& b) {
  const Result same = same_predictions(a, b);
  INFO(same.output);
  CHECK(same.output.find("same 4 keys") != std::string::npos);
}

}  // namespace

TEST_CASE("a CSV sequence column and an indexed FASTA file predict exactly what the FASTA file does") {
  TempDir dir;
  fs::copy_file(kFasta, dir / "plain.fa");
  // ESM-2 inference's input: a CSV with an ID and a sequence column; descriptions may hold quoted commas.
  REQUIRE(run(fmt::format("{0} -c \"import csv; recs = open('{1}/plain.fa').read().split('>')[1:]; "
                          "w = csv.writer(open('{1}/seqs.csv', 'w', newline='')); w.writerow(['accession', 'description', 'sequence']); "
                          "[w.writerow([r.split()[0], 'a \\\"globin\\\", ' + str(i), ''.join(r.splitlines()[1:])]) for i, r in enumerate(recs)]\"",
                          MINITRAIN_PYTHON, dir.path().string())).exit_code == 0);
  const fs::path job = predict_job(dir, fmt::format("        {{output_dir: {}/unused}}", dir.path().string()));
  predict_and_collect(dir, job, "fasta", fmt::format("--data.predict.fasta={}/plain.fa", dir.path().string()));
  predict_and_collect(dir, job, "csv",
                      fmt::format("--data.predict=\"{{table: {}/seqs.csv, sequence_column: sequence, id_column: accession}}\"",
                                  dir.path().string()));
  check_same(dir / "fasta.pt", dir / "csv.pt");

  // The index is built on first use beside the file, then reused while the file is unchanged.
  const std::string indexed = fmt::format("--data.predict.fasta={}/plain.fa --data.predict.index=always", dir.path().string());
  predict_and_collect(dir, job, "indexed", indexed, "plain.fa: indexed 45 records into");
  CHECK(fs::exists(dir / "plain.fa.mtfai"));
  check_same(dir / "fasta.pt", dir / "indexed.pt");
  predict_and_collect(dir, job, "reused", indexed, "plain.fa: 45 records, read on demand through");
  check_same(dir / "fasta.pt", dir / "reused.pt");
  // A changed file is indexed again: a record added at the end is predicted too.
  minitrain::testing::write_file(dir / "plain.fa", minitrain::testing::read_file(kFasta) + ">NEW_1\nMKVLAAGG\n");
  const Result changed = run_cli(fmt::format("predict --config {} {} --trainer.callbacks[0].init_args.output_dir={}/out_changed",
                                             job.string(), indexed, dir.path().string()));
  INFO(changed.output);
  CHECK(changed.exit_code == 0);
  CHECK(changed.output.find("changed since") != std::string::npos);
  CHECK(changed.output.find("indexed 46 records") != std::string::npos);
  CHECK(changed.output.find("46 samples from fasta") != std::string::npos);
}

TEST_CASE("job files compose: later --config files override earlier ones key by key, then --key=value") {
  TempDir dir;
  const fs::path job = predict_job(dir, fmt::format("        {{output_dir: {}/out, write_interval: batch}}", dir.path().string()));
  const fs::path later = minitrain::testing::write_file(dir / "later.yaml", R"(trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {output_dir: elsewhere, write_interval: epoch}
model:
  init_args: {num_heads: 4}
data:
  predict: {max_length: 64}
)");
  const Result printed = run_cli(fmt::format("predict --config {} --config {} --data.batch_size=5 --print-config",
                                             job.string(), later.string()));
  INFO(printed.output);
  REQUIRE(printed.exit_code == 0);
  for (const char* merged : {"output_dir: elsewhere, write_interval: epoch", "embed_dim: 16", "num_heads: 4",
                             "max_length: 64", "batch_size: 5"})
    CHECK(printed.output.find(merged) != std::string::npos);
  CHECK(printed.output.find("write_interval: batch") == std::string::npos);  // the list is replaced whole
}

TEST_CASE("max_tokens packs batches by length within the budget, and collect gives the rows fixed batches give") {
  TempDir dir;
  const fs::path job = predict_job(dir, fmt::format("        {{output_dir: {}/unused}}", dir.path().string()));
  predict_and_collect(dir, job, "fixed", "--data.predict.batch_size=8");
  predict_and_collect(dir, job, "packed", "--data.predict.max_tokens=600", "batches of up to 600 tokens");
  minitrain::testing::write_file(dir / "check.py", R"(import glob, re, sys, torch
out, fixed, packed = sys.argv[1], torch.load(sys.argv[2]), torch.load(sys.argv[3])
assert fixed["ids"] == packed["ids"] and torch.equal(fixed["batch_indices"], packed["batch_indices"])
assert torch.equal(fixed["input_ids"], packed["input_ids"])  # collect pads both to the longest
assert torch.allclose(fixed["embeddings"], packed["embeddings"], atol=1e-5)
real = fixed["input_ids"] != 0
assert torch.allclose(fixed["token_logits"][real], packed["token_logits"][real], atol=1e-4)
files = sorted(glob.glob(out + "/predictions__rank_0__batch_*.pt"), key=lambda f: int(re.findall(r"(\d+)\.pt", f)[0]))
widths = []
for f in files:
    ids = torch.load(f)["input_ids"]
    assert ids.numel() <= 600, (f, list(ids.shape))
    widths.append(ids.shape[1])
assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1], widths  # longest first
print("packed", len(files), "batches")
)");
  const Result r = run(fmt::format("{0} {1}/check.py {1}/out_packed {1}/fixed.pt {1}/packed.pt", MINITRAIN_PYTHON, dir.path().string()));
  INFO(r.output);
  CHECK(r.output.find("packed ") != std::string::npos);
}

TEST_CASE("a TorchScript model's inputs come from the data when the job does not name them") {
  TempDir dir;
  // A model over token IDs, as a TorchScript ESM-style encoder takes them.
  minitrain::testing::write_file(dir / "embed.py", R"(import sys, torch
class Embed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(33, 8)
    def forward(self, ids: torch.Tensor):
        return self.embedding(ids).mean(1)
torch.jit.save(torch.jit.script(Embed()), sys.argv[1])
)");
  REQUIRE(run(fmt::format("{} {} {}", MINITRAIN_PYTHON, (dir / "embed.py").string(), (dir / "embed.pt").string())).exit_code == 0);
  const fs::path job = minitrain::testing::write_file(dir / "job.yaml", fmt::format(R"(trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {{output_dir: {0}/out, write_interval: epoch}}
model: {{torchscript: {0}/embed.pt}}
data:
  predict: {{fasta: {1}}}
)",
                                                                                   dir.path().string(), kFasta.string()));
  const Result printed = run_cli(fmt::format("predict --config {} --print-config", job.string()));
  CHECK(printed.output.find("inputs: [input_ids]") != std::string::npos);
  const Result r = run_cli(fmt::format("predict --config {}", job.string()));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const Result shape = run(fmt::format("{} -c \"import torch; print('shape', list(torch.load('{}/out/predictions__rank_0.pt')['prediction'].shape))\"",
                                       MINITRAIN_PYTHON, dir.path().string()));
  CHECK(shape.output.find("shape [45, 8]") != std::string::npos);
}

TEST_CASE("gzip-compressed FASTA and tables predict exactly what the plain files do") {
  TempDir dir;
  fs::copy_file(kFasta, dir / "plain.fa");
  REQUIRE(run(fmt::format("gzip -c {0}/plain.fa > {0}/packed.fa.gz && gzip -c {0}/plain.fa > {0}/no_suffix.fa",
                          dir.path().string())).exit_code == 0);
  const fs::path job = predict_job(dir, fmt::format("        {{output_dir: {}/unused}}", dir.path().string()));
  for (const char* name : {"plain.fa", "packed.fa.gz", "no_suffix.fa"}) {
    const Result r = run_cli(fmt::format("predict --config {0} --seed_everything=5 --data.predict.fasta={1}/{2} "
                                         "--trainer.callbacks[0].init_args.output_dir={1}/out_{2}",
                                         job.string(), dir.path().string(), name));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("45 samples from fasta") != std::string::npos);
    REQUIRE(run_cli(fmt::format("collect --input {0}/out_{1} --output {0}/{1}.pt", dir.path().string(), name)).exit_code == 0);
  }
  for (const char* name : {"packed.fa.gz", "no_suffix.fa"}) {
    const Result same = same_predictions(dir / "plain.fa.pt", dir / fmt::format("{}.pt", name));
    INFO(same.output);
    CHECK(same.output.find("same 4 keys") != std::string::npos);
  }

  // A TSV table, compressed: its delimiter still comes from the name before .gz, and fit learns the same weights.
  const fs::path linear = table_job(dir);
  REQUIRE(run(fmt::format("sed 's/,/\\t/g' {0}/train.csv | gzip -c > {1}/train.tsv.gz", linear_model_dir().string(),
                          dir.path().string())).exit_code == 0);
  for (const auto& [name, table] : {std::pair{"csv", (linear_model_dir() / "train.csv").string()},
                                    std::pair{"tsv_gz", (dir / "train.tsv.gz").string()}}) {
    const Result fit = run_cli(fmt::format("fit --config {} --seed_everything=5 --data.train.table={} --trainer.default_root_dir={}/{}",
                                           linear.string(), table, dir.path().string(), name));
    INFO(fit.output);
    REQUIRE(fit.exit_code == 0);
  }
  const Result weights = run(fmt::format(
      "{0} -c \"import sys, torch; a, b = (torch.load(p) for p in sys.argv[1:]); "
      "assert all(torch.equal(a[k], b[k]) for k in a); print('same weights', sorted(a))\" {1}/csv/checkpoints/weights.pt "
      "{1}/tsv_gz/checkpoints/weights.pt",
      MINITRAIN_PYTHON, dir.path().string()));
  INFO(weights.output);
  CHECK(weights.output.find("same weights ['bias', 'weight']") != std::string::npos);
}

TEST_CASE("fault catalogue: damaged gzip inputs (exit 1, nothing written)") {
  const char* const damaged =
      "import gzip; data = gzip.compress(open('{fasta}', 'rb').read()); "
      "open('{dir}/cut.fa.gz', 'wb').write(data[:len(data) // 2]); "
      "bad = bytearray(data); bad[len(bad) // 2] ^= 0xff; open('{dir}/bad.fa.gz', 'wb').write(bytes(bad))";
  check_fault_rows({
      {"a gzip input cut short", "        output_dir: {dir}/out", false, {}, damaged,
       "predict --config {dir}/job.yaml --data.predict.fasta={dir}/cut.fa.gz", 1,
       {"{dir}/cut.fa.gz: error: the gzip data ends early at compressed byte", "(unexpected end of file)",
        "fix: the file was cut short (an interrupted download?); fetch it again"}},
      {"a corrupt gzip input", "        output_dir: {dir}/out", false, {}, damaged,
       "predict --config {dir}/job.yaml --data.predict.fasta={dir}/bad.fa.gz", 1,
       {"{dir}/bad.fa.gz: error: the gzip data is corrupt at compressed byte", "fix: fetch the file again, or check it with gzip -t"}},
  });
}

TEST_CASE("fault catalogue: sequence inputs, composed job files and model inputs") {
  const std::pair<const char*, const char*> bad_table{"{dir}/seqs.csv", "id,sequence\nP1,MKV\nP2,MK1V\n"};
  const std::pair<const char*, const char*> open_quote{"{dir}/seqs.csv", "id,sequence\n\"P1,MKV\n"};
  check_fault_rows({
      {"an error in a later --config file", "        output_dir: {dir}/out", false,
       {{"{dir}/later.yaml", "model:\n  init_args: {num_head: 4}\n"}}, nullptr,
       "predict --config {dir}/job.yaml --config {dir}/later.yaml", 2,
       {"{dir}/later.yaml:2:15: error: model.init_args.num_head: unknown key (did you mean num_heads?)"}},
      {"a model input the data does not have", "        output_dir: {dir}/out", false, {}, nullptr,
       "predict --config {dir}/job.yaml --model=\"{torchscript: {linear}/linear.pt, inputs: [features]}\"", 2,
       {"error: model.inputs: 'features' is not a field of data.predict (fasta {fasta}), whose batches hold input_ids, "
        "attention_mask; list the fields forward takes, e.g. model.inputs: [input_ids]"}},
      {"model inputs not given, data without input_ids or features", "        output_dir: {dir}/out", false, {},
       "import torch; torch.save({'embedding': torch.zeros(3, 2)}, '{dir}/emb.pt')",
       "predict --config {dir}/job.yaml --model=\"{torchscript: {linear}/linear.pt}\" --data.predict=\"{tensors: {dir}/emb.pt}\"", 2,
       {"error: model.inputs: not given, and the batches of data.predict (tensors {dir}/emb.pt) hold embedding, neither "
        "input_ids nor features; write model.inputs: [NAME, ...]"}},
      {"a bad letter in a table's sequence column", "        output_dir: {dir}/out", false, {bad_table}, nullptr,
       "predict --config {dir}/job.yaml --data.predict=\"{table: {dir}/seqs.csv, sequence_column: sequence, id_column: id}\"", 1,
       {"{dir}/seqs.csv:3:6: error: '1' is not an amino-acid letter in column 'sequence'"}},
      {"a quoted CSV cell not closed", "        output_dir: {dir}/out", false, {open_quote}, nullptr,
       "predict --config {dir}/job.yaml --data.predict=\"{table: {dir}/seqs.csv, sequence_column: sequence}\"", 1,
       {"{dir}/seqs.csv:2:1: error: the quoted cell is not closed on its line", "fix: end it with \""}},
      {"a sequence table given features or targets", "        output_dir: {dir}/out", false, {bad_table}, nullptr,
       "predict --config {dir}/job.yaml --data.predict=\"{table: {dir}/seqs.csv, sequence_column: sequence, targets: [y]}\"", 2,
       {"error: data.predict.targets: a table with a sequence_column gives input_ids and attention_mask"}},
      {"max_tokens on training data", "        output_dir: {dir}/out", false, {}, nullptr,
       "fit --config {dir}/job.yaml --data.train=\"{fasta: {fasta}, max_tokens: 1000}\"", 2,
       {"error: data.train.max_tokens: packs predict and validation batches by length; training batches keep batch_size"}},
      {"max_tokens on a table without a sequence column", "        output_dir: {dir}/out", false,
       {{"{dir}/t.csv", "x,y\n1,2\n"}}, nullptr,
       "predict --config {dir}/job.yaml --data.predict=\"{table: {dir}/t.csv, max_tokens: 100}\"", 2,
       {"error: data.predict.max_tokens: packs batches by sequence length, and a table of numbers has none"}},
      {"index: always on a gzip-compressed FASTA", "        output_dir: {dir}/out", false, {},
       "import gzip; open('{dir}/s.fa.gz', 'wb').write(gzip.compress(open('{fasta}', 'rb').read()))",
       "predict --config {dir}/job.yaml --data.predict=\"{fasta: {dir}/s.fa.gz, index: always}\"", 1,
       {"{dir}/s.fa.gz: error: index: always needs an uncompressed FASTA file", "fix: decompress it (gunzip -k), or set index: auto"}},
  });
}

}  // namespace minitrain::e2e
