// Prediction files in every format users ask for: safetensors from the
// writer, and collect's exports, each read back by the Python package its
// users have.
#include "cli_runner.hpp"
#include "fault_rows.hpp"

namespace minitrain::e2e {

namespace {

Result predict_into(const TempDir& dir, const std::string& name, const std::string& extra_args) {
  return run_cli(fmt::format("predict --config {} --seed_everything=7 --trainer.callbacks[0].init_args.output_dir={} {}",
                             predict_job(dir, "        {write_interval: batch_and_epoch, files_per_subdir: 2}").string(),
                             (dir / name).string(), extra_args));
}

}  // namespace

TEST_CASE("format: safetensors holds what the .pt files hold, IDs in a sidecar; collect and resume check it by the manifest") {
  TempDir dir;
  const Result pt = predict_into(dir, "pt", "");
  INFO(pt.output);
  REQUIRE(pt.exit_code == 0);
  const Result st = predict_into(dir, "st", "--trainer.callbacks[0].init_args.format=safetensors");
  INFO(st.output);
  REQUIRE(st.exit_code == 0);
  CHECK(fs::exists(dir / "st" / "subdir_0" / "predictions__rank_0__batch_1.safetensors"));
  CHECK(fs::exists(dir / "st" / "subdir_0" / "predictions__rank_0__batch_1.ids.json"));
  CHECK(fs::exists(dir / "st" / "predictions__rank_0.safetensors"));

  const Result checked = run(fmt::format("{} tests/e2e/check_safetensors.py {} {}", MINITRAIN_PYTHON, (dir / "st").string(),
                                         (dir / "pt").string()));
  INFO(checked.output);
  CHECK(checked.exit_code == 0);
  CHECK(checked.output.find("check_safetensors: OK: 4 files equal to the .pt ones") != std::string::npos);

  // Files lost or cut short after the run: collect refuses; resume keeps what the manifest still
  // vouches for, writes the rest again, and collect then equals the .pt run's.
  fs::remove(dir / "st" / "subdir_1" / "predictions__rank_0__batch_2.safetensors");
  fs::remove(dir / "st" / "predictions__rank_0.safetensors");
  const fs::path cut = dir / "st" / "subdir_0" / "predictions__rank_0__batch_0.safetensors";
  fs::resize_file(cut, fs::file_size(cut) - 4);
  const Result refused = run_cli(fmt::format("collect --input {} --output {}", (dir / "st").string(), (dir / "x.pt").string()));
  CHECK(refused.exit_code != 0);
  CHECK(refused.output.find(cut.string() + ": error: manifest.json lists it with") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "x.pt"));
  const Result resumed = predict_into(dir, "st", "--trainer.callbacks[0].init_args.format=safetensors "
                                                 "--trainer.callbacks[0].init_args.resume=true");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.output.find("resume: " + cut.string() + " changed since the run that manifest.json lists wrote it; "
                            "writing it again") != std::string::npos);
  CHECK(resumed.output.find("wrote 3 file(s)") != std::string::npos);
  CHECK(resumed.output.find("kept 1 complete file(s) of an earlier run") != std::string::npos);
  for (const char* name : {"pt", "st"}) {
    const Result collected = run_cli(fmt::format("collect --input {} --output {}", (dir / name).string(),
                                                 (dir / fmt::format("{}.pt", name)).string()));
    INFO(collected.output);
    REQUIRE(collected.exit_code == 0);
  }
  const Result same = run(fmt::format(
      "{} -c \"import sys, torch; a, b = (torch.load(p) for p in sys.argv[1:]); assert sorted(a) == sorted(b), (sorted(a), "
      "sorted(b)); assert a.pop('ids') == b.pop('ids'); assert all(torch.equal(a[k], b[k]) for k in a); print('same', len(a))\" {} {}",
      MINITRAIN_PYTHON, (dir / "pt.pt").string(), (dir / "st.pt").string()));
  INFO(same.output);
  CHECK(same.exit_code == 0);
  CHECK(same.output.find("same 4") != std::string::npos);
}

TEST_CASE("collect --format: safetensors, HDF5 and h5ad hold what the .pt output holds, in dataset order") {
  TempDir dir;
  const Result predicted = predict_into(dir, "pt", "");
  INFO(predicted.output);
  REQUIRE(predicted.exit_code == 0);
  // By the output's extension, and by --format whatever the name.
  for (const std::string& args : {"--output {0}/c.pt", "--output {0}/c.safetensors", "--output {0}/c.h5",
                                  "--output {0}/c.h5ad", "--output {0}/named.out --format h5ad"}) {
    const Result collected = run_cli(fmt::format(fmt::runtime("collect --input {0}/pt " + args), dir.path().string()));
    INFO(collected.output);
    REQUIRE(collected.exit_code == 0);
  }
  const Result checked = run(fmt::format("{} tests/e2e/check_exports.py {}/c.pt {}/c", MINITRAIN_PYTHON, dir.path().string(),
                                         dir.path().string()));
  INFO(checked.output);
  CHECK(checked.exit_code == 0);
  CHECK(checked.output.find("check_exports: OK: 45 samples in safetensors, HDF5 and h5ad") != std::string::npos);
  const Result named = run(fmt::format("{} -c \"import sys; sys.path.insert(0, 'tests/e2e'); import h5ad_reader; "
                                       "print(h5ad_reader.read('{}/named.out')[1].shape)\"",
                                       MINITRAIN_PYTHON, dir.path().string()));
  CHECK(named.output.find("(45, 16)") != std::string::npos);

  const Result wrong_key = run_cli(fmt::format("collect --input {0}/pt --output {0}/x.h5ad --x-key token_logits", dir.path().string()));
  CHECK(wrong_key.exit_code == 1);
  CHECK(wrong_key.output.find("--x-key token_logits: .X needs an output with two dims [samples, features]; these have two: "
                              "embeddings") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "x.h5ad"));
  const Result wrong_format = run_cli(fmt::format("collect --input {0}/pt --output {0}/x.zarr --format zarr", dir.path().string()));
  CHECK(wrong_format.exit_code == 2);
  CHECK(wrong_format.output.find("--format: zarr not in {pt,safetensors,hdf5,h5ad}") != std::string::npos);
}

TEST_CASE("unpadded_keys: flat tokens and offsets in batch, epoch and collected files, over two ranks") {
  TempDir dir;
  const Result padded = predict_into(dir, "padded", "");
  INFO(padded.output);
  REQUIRE(padded.exit_code == 0);
  // The job file is predict_into's; two ranks split the batches between them.
  const Result unpadded = run_cli(fmt::format(
      "launch --nproc 2 predict --config {}/job.yaml --seed_everything=7 --trainer.callbacks[0].init_args.output_dir={}/unpadded "
      "\"--trainer.callbacks[0].init_args.unpadded_keys=[token_logits, input_ids]\"",
      dir.path().string(), dir.path().string()));
  INFO(unpadded.output);
  REQUIRE(unpadded.exit_code == 0);
  for (const char* name : {"padded", "unpadded"}) {
    const Result collected = run_cli(fmt::format("collect --input {0}/{1} --output {0}/{1}.pt", dir.path().string(), name));
    INFO(collected.output);
    REQUIRE(collected.exit_code == 0);
  }
  const Result checked = run(fmt::format("{0} tests/e2e/check_unpadded.py {1}/padded.pt {1}/unpadded {1}/unpadded.pt "
                                         "token_logits input_ids",
                                         MINITRAIN_PYTHON, dir.path().string()));
  INFO(checked.output);
  CHECK(checked.exit_code == 0);
  CHECK(checked.output.find("check_unpadded: OK: 6 files and collect's output") != std::string::npos);

  const Result no_mask = run_cli(fmt::format(
      "predict --config {0}/job.yaml --trainer.callbacks[0].init_args.output_dir={0}/bad "
      "\"--trainer.callbacks[0].init_args.unpadded_keys=[embeddings]\"",
      dir.path().string()));
  CHECK(no_mask.exit_code == 1);
  CHECK(no_mask.output.find("unpadded_keys names 'embeddings', of shape [16, 16], which is not [batch (16), length (155), ...] "
                                    "like the batch's attention_mask") !=
        std::string::npos);
}

TEST_CASE("fault catalogue: prediction formats and unpadded outputs (exit 1, nothing written)") {
  const char* const two_files =
      "import os, torch; os.makedirs('{dir}/in'); "
      "torch.save({'x': torch.zeros(3, 2), 'x_offsets': torch.tensor([0, 1, 3]), 'batch_indices': torch.tensor([0, 1]), "
      "'batch_idx': torch.tensor([0])}, '{dir}/in/predictions__rank_0__batch_0.pt'); "
      "torch.save({'x': torch.zeros(1, 2), 'batch_indices': torch.tensor([2]), 'batch_idx': torch.tensor([0])}, "
      "'{dir}/in/predictions__rank_1__batch_0.pt')";
  check_fault_rows({
      {"unpadded_keys naming an output that is not per token", "        output_dir: {dir}/out\n        unpadded_keys: [embeddings]",
       false, {}, nullptr, "predict --config {dir}/job.yaml", 1,
       {"prediction_writer: unpadded_keys names 'embeddings', of shape [16, 16], which is not [batch (16), length ("},
       /*writes_nothing=*/false},
      {"unpadded_keys on data without an attention_mask", nullptr, true, {}, nullptr,
       "predict --config {dir}/table.yaml --trainer.callbacks[0].init_args.unpadded_keys=[prediction]", 1,
       {"prediction_writer: unpadded_keys takes each row's length from the batch's attention_mask, and this data has none "
        "(its fields: features)"},
       /*writes_nothing=*/false},
      {"collect on a file that is not safetensors", nullptr, false,
       {{"{dir}/in/predictions__rank_0__batch_0.safetensors", "garbage that is no header"}}, nullptr,
       "collect --input {dir}/in --output {dir}/all.pt", 1,
       {"{dir}/in/predictions__rank_0__batch_0.safetensors: error: not a safetensors file: its header length"}},
      {"collect on offsets that do not fit their output", nullptr, false, {},
       "import os, torch; os.makedirs('{dir}/in'); torch.save({'x': torch.zeros(5, 2), 'x_offsets': torch.tensor([0, 2, 9]), "
       "'batch_indices': torch.tensor([0, 1]), 'batch_idx': torch.tensor([0])}, '{dir}/in/predictions__rank_0__batch_0.pt')",
       "collect --input {dir}/in --output {dir}/all.pt", 1,
       {"predictions__rank_0__batch_0.pt: error: 'x_offsets' is not offsets into 'x' for 2 rows (int64 [rows + 1] from 0 to "
        "its length, never falling)"}},
      {"collect on unpadded and padded files mixed", nullptr, false, {}, two_files, "collect --input {dir}/in --output {dir}/all.pt",
       1, {"predictions__rank_1__batch_0.pt: error: its unpadded outputs () are not predictions__rank_0__batch_0.pt's (x); the "
           "files come from different jobs"}},
  });
  SUBCASE("a safetensors file without its IDs sidecar") {
    TempDir dir;
    const Result st = predict_into(dir, "st", "--trainer.callbacks[0].init_args.format=safetensors");
    REQUIRE(st.exit_code == 0);
    fs::remove(dir / "st" / "predictions__rank_0.ids.json");  // collect reads the epoch file
    fs::remove(dir / "st" / "manifest.json");
    const Result r = run_cli(fmt::format("collect --input {0}/st --output {0}/all.pt", dir.path().string()));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("predictions__rank_0.safetensors: error: its sample IDs should be in " +
                        (dir / "st" / "predictions__rank_0.ids.json").string() + ", which is missing") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(dir / "all.pt"));
  }
}

}  // namespace minitrain::e2e
