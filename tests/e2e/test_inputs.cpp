// Inputs as public databases ship them: gzip-compressed FASTA and tables give
// the same predictions as the plain files; damaged archives are refused.
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

}  // namespace

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

}  // namespace minitrain::e2e
