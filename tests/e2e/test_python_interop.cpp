// What Python users do with minitrain on either platform: load every file it
// writes with torch.load's defaults, weights_only=True and mmap=True; and run
// models they exported with torch.export + AOTInductor (LibTorch 2.6+).
#include <charconv>

#include "cli_runner.hpp"

namespace minitrain::e2e {

namespace {

// LibTorch's major.minor, as the build found it (MINITRAIN_TORCH_VERSION, "2.6").
bool torch_at_least(int major, int minor) {
  const std::string version = MINITRAIN_TORCH_VERSION;
  int have_major = 0, have_minor = 0;
  const auto dot = version.find('.');
  std::from_chars(version.data(), version.data() + dot, have_major);
  std::from_chars(version.data() + dot + 1, version.data() + version.size(), have_minor);
  return have_major > major || (have_major == major && have_minor >= minor);
}

fs::path exported_job(const fs::path& dir, const std::string& model, const std::string& extra = "") {
  return minitrain::testing::write_file(dir / (model + ".yaml"), fmt::format(R"(trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {{output_dir: {0}/{1}, write_interval: batch_and_epoch}}
model: {{exported: {0}/{1}.pt2, {2}}}
data:
  batch_size: 4
  predict: {{tensors: {0}/inputs.pt}}
  val: {{table: {0}/val.csv, targets: [label], class_targets: true, batch_size: 16}}
)",
                                                                             dir.string(), model, extra));
}

}  // namespace

TEST_CASE("every file minitrain writes loads in Python with weights_only=True and mmap=True") {
  TempDir dir;
  const Result fit = run_cli(fmt::format("fit --config configs/fit.yaml --trainer.max_epochs=1 --trainer.default_root_dir={}",
                                         (dir / "fit").string()));
  INFO(fit.output);
  REQUIRE(fit.exit_code == 0);
  const Result predict = run_cli(fmt::format(
      "predict --config configs/predict.yaml --ckpt_path={} --trainer.callbacks[0].init_args.output_dir={} "
      "--trainer.callbacks[0].init_args.write_interval=batch_and_epoch --trainer.default_root_dir={}",
      (dir / "fit" / "checkpoints" / "last.pt").string(), (dir / "predictions").string(), (dir / "predict").string()));
  INFO(predict.output);
  REQUIRE(predict.exit_code == 0);
  const Result collect = run_cli(fmt::format("collect --input {} --output {}", (dir / "predictions").string(),
                                             (dir / "collected.pt").string()));
  INFO(collect.output);
  REQUIRE(collect.exit_code == 0);

  // last.pt and weights.pt; 6 batch files and the epoch file; collect's file.
  const Result loads = run(fmt::format("{} tests/e2e/check_loads.py {}", MINITRAIN_PYTHON, dir.path().string()));
  INFO(loads.output);
  CHECK(loads.exit_code == 0);
  CHECK(loads.output.find("check_loads: OK: 10 files with torch " MINITRAIN_TORCH_VERSION) != std::string::npos);
  if (torch_at_least(2, 1)) CHECK(loads.output.find("weights_only=True and mmap=True") != std::string::npos);
}

TEST_CASE("exported models: clear about the LibTorch they need, and on 2.6 equal to Python's forward") {
  TempDir dir;
  if (!torch_at_least(2, 6)) {
    const Result r = run_cli("predict --config " + exported_job(dir.path(), "dict").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("dict.yaml:5:19: error: model.exported: exported models (torch.export + AOTInductor packages) need "
                        "LibTorch 2.6 or later; this minitrain is built against LibTorch " MINITRAIN_TORCH_VERSION) !=
          std::string::npos);
    return;
  }
  // Exporting takes about 15 s a package: once for every subcase.
  static const TempDir packages;
  static const Result fixture = run(fmt::format("{} tests/e2e/exported_fixture.py {}", MINITRAIN_PYTHON, packages.path().string()));
  INFO(fixture.output);
  REQUIRE(fixture.exit_code == 0);
  for (const char* file : {"dict.pt2", "tuple.pt2", "tensor.pt2", "fixed.pt2", "inputs.pt", "val.csv", "expected.pt"})
    fs::copy_file(packages.path() / file, dir / file);

  SUBCASE("dict, tuple and tensor outputs, a dynamic batch: predictions equal Python's; validate") {
    // 10 rows in batches of 4, 4 and 2.
    for (const std::string model : {"dict", "tuple", "tensor"}) {
      const Result r = run_cli("predict --config " +
                               exported_job(dir.path(), model, model == "tuple" ? "inputs: [features, extra]" : "").string());
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
    }
    const Result check = run(fmt::format("{} tests/e2e/check_exported_predictions.py {}", MINITRAIN_PYTHON, dir.path().string()));
    INFO(check.output);
    CHECK(check.exit_code == 0);
    CHECK(check.output.find("check_exported_predictions: OK: dict, tuple, tensor") != std::string::npos);

    const Result validate = run_cli("validate --config " + exported_job(dir.path(), "dict", "loss: cross_entropy").string() +
                                    " --trainer.callbacks[0].init_args.output_dir=" + (dir / "validate").string());
    INFO(validate.output);
    CHECK(validate.exit_code == 0);
    CHECK(validate.output.find("validation: val_accuracy 1.0000") != std::string::npos);
  }
  SUBCASE("a package exported for a fixed batch size") {
    const Result r = run_cli("predict --config " + exported_job(dir.path(), "fixed").string() +
                             " --data.batch_size=5 --trainer.callbacks[0].init_args.output_dir=" + (dir / "other").string());
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("fixed.pt2: error: the package was exported for a fixed batch size") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "other" / "predictions__rank_0__batch_0.pt"));
  }
  SUBCASE("fit and ckpt_path are refused before anything runs") {
    const Result r = run_cli("fit --config " + exported_job(dir.path(), "dict", "loss: cross_entropy").string() +
                             " '--data.train={table: " + (dir / "val.csv").string() + "}' --ckpt_path=" +
                             (dir / "inputs.pt").string());
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("error: model: an exported model cannot be trained") != std::string::npos);
    CHECK(r.output.find("error: ckpt_path: an exported model's weights are compiled into its package") != std::string::npos);
  }
  SUBCASE("inputs that do not match the exported forward") {
    const Result r = run_cli("predict --config " + exported_job(dir.path(), "tuple").string());
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("tuple.pt2: error: the exported forward takes 2 tensor(s) but model.inputs names 1") !=
          std::string::npos);
  }
  SUBCASE("a package that is not there") {
    const Result r = run_cli("predict --config " + exported_job(dir.path(), "dict").string() + " --model.exported=" +
                             (dir / "none.pt2").string());
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("none.pt2: error: exported model package not found") != std::string::npos);
  }
  SUBCASE("a file that is not a package") {
    const Result r = run_cli("predict --config " + exported_job(dir.path(), "dict").string() + " --model.exported=" +
                             (dir / "inputs.pt").string());
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("inputs.pt: error: not an AOTInductor package") != std::string::npos);
  }
}

}  // namespace minitrain::e2e
