// End to end: the real `minitrain` binary on real job files; its prediction
// files are read back by Python's torch.load (tests/e2e/check_predictions.py).
#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "e2e/cli_runner.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using minitrain::testing::TempDir;
using namespace minitrain::e2e;

TEST_CASE("the shipped jobs run end to end and Python's torch.load reads every file") {
  TempDir dir;
  const std::string ckpt = (dir / "fit" / "checkpoints" / "last.pt").string();
  const Result fit = run_cli(fmt::format("fit --config configs/fit.yaml --trainer.max_epochs=2 --trainer.default_root_dir={}",
                                           (dir / "fit").string()));
  INFO(fit.output);
  REQUIRE(fit.exit_code == 0);
  CHECK(fit.output.find("epoch 1 done: train_loss") != std::string::npos);
  CHECK(fit.output.find("training checkpoint (resume with --ckpt_path) at " + ckpt) != std::string::npos);

  const std::string weights = fmt::format("--ckpt_path={} --trainer.default_root_dir={}", ckpt, (dir / "predict").string());
  const Result batch = run_cli(fmt::format("predict --config configs/predict.yaml {} --trainer.callbacks[0].init_args.output_dir={}",
                                             weights, (dir / "batch").string()));
  INFO(batch.output);
  REQUIRE(batch.exit_code == 0);
  CHECK(batch.output.find("loaded weights from " + ckpt) != std::string::npos);
  CHECK(batch.output.find("prediction_writer: wrote 6 file(s) to " + (dir / "batch").string()) != std::string::npos);

  const Result epoch = run_cli(fmt::format("predict --config configs/predict_epoch.yaml {} --trainer.callbacks[0].init_args.output_dir={}",
                                             weights, (dir / "epoch").string()));
  INFO(epoch.output);
  REQUIRE(epoch.exit_code == 0);

  const Result both = run_cli(fmt::format("predict --config configs/predict.yaml {} --trainer.callbacks[0].init_args.output_dir={} "
                                            "--trainer.callbacks[0].init_args.write_interval=batch_and_epoch",
                                            weights, (dir / "both").string()));
  INFO(both.output);
  REQUIRE(both.exit_code == 0);

  const Result check = run(fmt::format("{} tests/e2e/check_predictions.py --fasta {} --batch-size 8 --max-length 160 "
                                       "--batch-dir {} --epoch-dir {} --both-dir {}",
                                       MINITRAIN_PYTHON, kFasta.string(), (dir / "batch").string(),
                                       (dir / "epoch").string(), (dir / "both").string()));
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK(check.output.find("check_predictions: OK") != std::string::npos);

  // Python also reads the weights as a state_dict-shaped {name: tensor}.
  const Result weights_check = run(fmt::format(
      "{} -c \"import torch; w = torch.load('{}'); assert type(w) is dict and len(w) > 10; "
      "assert all(isinstance(v, torch.Tensor) for v in w.values()); print(w['lm_head.weight'].shape)\"",
      MINITRAIN_PYTHON, (dir / "fit" / "checkpoints" / "weights.pt").string()));
  INFO(weights_check.output);
  CHECK(weights_check.exit_code == 0);
  CHECK(weights_check.output.find("torch.Size([30, 64])") != std::string::npos);
}

TEST_CASE("an interrupted predict, resumed, ends with the files of an uninterrupted run") {
  TempDir dir;
  const std::string job = "predict --config configs/predict.yaml --ckpt_path=null --trainer.default_root_dir=" +
                          (dir / "report").string() + " --trainer.callbacks[0].init_args.overwrite=false "
                          "--trainer.callbacks[0].init_args.write_interval=batch_and_epoch "
                          "--trainer.callbacks[0].init_args.files_per_subdir=4 ";
  const Result whole = run_cli(job + "--trainer.callbacks[0].init_args.output_dir=" + (dir / "whole").string());
  INFO(whole.output);
  REQUIRE(whole.exit_code == 0);

  const std::string resumed_dir = "--trainer.callbacks[0].init_args.output_dir=" + (dir / "resumed").string();
  const Result first = run_cli(job + resumed_dir + " --trainer.limit_predict_batches=3");
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  fs::remove(dir / "resumed" / "predictions__rank_0.pt");  // the epoch file of an epoch that never ended
  const Result refused = run_cli(job + resumed_dir);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("resume: true to complete an interrupted run") != std::string::npos);

  const Result second = run_cli(job + resumed_dir + " --trainer.callbacks[0].init_args.resume=true");
  INFO(second.output);
  REQUIRE(second.exit_code == 0);
  CHECK(second.output.find("wrote 4 file(s)") != std::string::npos);  // batches 3-5 and the epoch file
  CHECK(second.output.find("kept 3 complete file(s) of an earlier run") != std::string::npos);

  const Result compare = run(fmt::format("{} tests/e2e/compare_predictions.py {} {}", MINITRAIN_PYTHON,
                                         (dir / "whole").string(), (dir / "resumed").string()));
  INFO(compare.output);
  CHECK(compare.exit_code == 0);
  CHECK(compare.output.find("compare_predictions: OK: 7 files equal") != std::string::npos);
}

TEST_CASE("a write that fails (file size limit) stops the run with the reason and leaves no partial file") {
  TempDir dir;
  const fs::path out = dir / "out";
  // Batch files (150 KiB) fit under the limit; the epoch file (1 MiB), laid out at the first
  // batch, does not. With SIGXFSZ ignored, the write fails with EFBIG, as with ENOSPC.
  const Result r = run(fmt::format("trap '' XFSZ; ulimit -f 512; '{}' predict --config configs/predict.yaml --ckpt_path=null "
                                   "--trainer.callbacks[0].init_args.write_interval=batch_and_epoch "
                                   "--trainer.callbacks[0].init_args.output_dir={} --trainer.default_root_dir={}",
                                   kCli, out.string(), (dir / "report").string()));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("cannot write " + (out / "predictions__rank_0.pt").string() + ": File too large") != std::string::npos);
  CHECK_FALSE(fs::exists(out / "predictions__rank_0.pt"));
  std::size_t batch_files = 0;
  for (const auto& entry : fs::directory_iterator(out)) {
    INFO(entry.path().string());  // no temporary left behind:
    CHECK((entry.path().filename().string().starts_with("predictions__rank_0__batch_") && entry.path().extension() == ".pt"));
    ++batch_files;
  }
  CHECK(batch_files <= 6);  // the run stopped at the failed write: only complete batch files are left
  const Result loads = run(fmt::format("{} -c \"import glob, torch; [torch.load(f) for f in glob.glob('{}/*.pt')]\"",
                                       MINITRAIN_PYTHON, out.string()));
  INFO(loads.output);
  CHECK(loads.exit_code == 0);
}

TEST_CASE("seed_everything: two runs of the same job give bit-identical weights and predictions") {
  TempDir dir;
  for (const std::string run_name : {"a", "b"}) {
    const fs::path root = dir / run_name;
    const Result fit = run_cli(fmt::format("fit --config configs/fit.yaml --trainer.max_epochs=2 --trainer.default_root_dir={} "
                                           "'--optimizer={{class_path: sgd, init_args: {{lr: 0.05, momentum: 0.9}}}}' "
                                           "'--lr_scheduler={{class_path: cosine, init_args: {{warmup_steps: 2}}}}' "
                                           "--trainer.accumulate_grad_batches=2 --trainer.gradient_clip_val=1.0",
                                           root.string()));
    INFO(fit.output);
    REQUIRE(fit.exit_code == 0);
    fs::rename(root / "checkpoints" / "weights.pt", root / "weights.pt");
    const Result predict = run_cli(fmt::format("predict --config configs/predict.yaml --ckpt_path={} --trainer.default_root_dir={} "
                                               "--trainer.callbacks[0].init_args.output_dir={}",
                                               (root / "weights.pt").string(), root.string(), (root / "predictions").string()));
    INFO(predict.output);
    REQUIRE(predict.exit_code == 0);
    fs::remove_all(root / "checkpoints");
  }
  const Result compare = run(fmt::format("{} tests/e2e/compare_predictions.py {} {}", MINITRAIN_PYTHON, (dir / "a").string(),
                                         (dir / "b").string()));
  INFO(compare.output);
  CHECK(compare.exit_code == 0);
  CHECK(compare.output.find("compare_predictions: OK: 7 files equal") != std::string::npos);  // weights + 6 batches
}

TEST_CASE("fit stopped after epoch 1 and resumed with --ckpt_path equals an uninterrupted fit") {
  TempDir dir;
  const std::string fit = "fit --config configs/fit.yaml ";
  const Result whole = run_cli(fit + "--trainer.max_epochs=2 --trainer.default_root_dir=" + (dir / "whole").string());
  INFO(whole.output);
  REQUIRE(whole.exit_code == 0);
  const std::string part_root = "--trainer.default_root_dir=" + (dir / "part").string();
  const Result first = run_cli(fit + "--trainer.max_epochs=1 " + part_root);
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  const Result resumed = run_cli(fit + "--trainer.max_epochs=2 " + part_root + " --ckpt_path=" +
                                 (dir / "part" / "checkpoints" / "last.pt").string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.output.find("resuming fit from") != std::string::npos);
  CHECK(resumed.output.find("epoch 0 done") == std::string::npos);  // epoch 0 is not trained again
  CHECK(resumed.output.find("epoch 1 done") != std::string::npos);
  const Result compare = run(fmt::format("{} tests/e2e/compare_predictions.py {} {}", MINITRAIN_PYTHON,
                                         (dir / "whole" / "checkpoints").string(), (dir / "part" / "checkpoints").string()));
  INFO(compare.output);
  CHECK(compare.exit_code == 0);
  // weights.pt and last.pt alike: weights, optimizer state, counters and RNG state.
  CHECK(compare.output.find("compare_predictions: OK: 2 files equal") != std::string::npos);
}

TEST_CASE("a TorchScript model from Python fits on CSV, validates on TSV and predicts on a torch.save file") {
  TempDir dir;
  const Result fixture = run(fmt::format("{} tests/e2e/tabular_fixture.py {}", MINITRAIN_PYTHON, dir.path().string()));
  INFO(fixture.output);
  REQUIRE(fixture.exit_code == 0);
  const fs::path job = minitrain::testing::write_file(dir / "job.yaml", fmt::format(R"(seed_everything: 1
trainer:
  max_epochs: 8
  default_root_dir: {0}/run
  callbacks:
    - plugin: prediction_writer
      init_args: {{output_dir: {0}/predictions, write_interval: epoch}}
model: {{torchscript: {0}/model.pt, loss: cross_entropy}}
optimizer: {{class_path: adam, init_args: {{lr: 0.01}}}}
data:
  batch_size: 32
  shuffle: true
  train: {{table: {0}/train.csv, targets: [label], class_targets: true}}
  val: {{table: {0}/val.tsv, targets: [label], class_targets: true, batch_size: 100}}
  predict: {{tensors: {0}/inputs.pt, batch_size: 16}}
)",
                                                                                    dir.path().string()));
  const std::string weights = (dir / "run" / "checkpoints" / "weights.pt").string();
  const Result fit = run_cli("fit --config " + job.string());
  INFO(fit.output);
  REQUIRE(fit.exit_code == 0);
  CHECK(fit.output.find("data.val: 200 samples from table " + (dir / "val.tsv").string() + ", 2 batches of up to 100") !=
        std::string::npos);
  CHECK(fit.output.find("epoch 7 done: train_loss ") != std::string::npos);
  CHECK(fit.output.find(", val_accuracy ") != std::string::npos);

  const Result validate = run_cli(fmt::format("validate --config {} --ckpt_path={}", job.string(), weights));
  INFO(validate.output);
  CHECK(validate.exit_code == 0);
  CHECK(validate.output.find("validation: val_accuracy ") != std::string::npos);

  const Result predict = run_cli(fmt::format("predict --config {} --ckpt_path={}", job.string(), weights));
  INFO(predict.output);
  REQUIRE(predict.exit_code == 0);
  CHECK(predict.output.find("data.predict: 50 samples from tensors") != std::string::npos);
  const Result check = run(fmt::format("{} tests/e2e/check_scripted_predictions.py {} {} {}", MINITRAIN_PYTHON,
                                       dir.path().string(), weights, (dir / "predictions" / "predictions__rank_0.pt").string()));
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK(check.output.find("check_scripted_predictions: OK") != std::string::npos);

  SUBCASE("fit without a loss is refused before anything runs") {
    const Result r = run_cli("fit --config " + job.string() + " --model.loss=null --trainer.default_root_dir=" + (dir / "other").string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("error: model.loss: fit needs a loss for the torchscript model: cross_entropy, mse or module") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "other"));
  }
  SUBCASE("a file that is not TorchScript") {
    const Result r = run_cli("predict --config " + job.string() + " --model.torchscript=" + (dir / "train.csv").string());
    CHECK(r.exit_code == 1);
    CHECK(r.output.find((dir / "train.csv").string() + ": error: not a TorchScript file") != std::string::npos);
  }
  SUBCASE("a malformed table cell") {
    minitrain::testing::write_file(dir / "bad.csv", "a,b,c,d,label\n1,2,3,4,0\n1,2,x3,4,1\n");
    const Result r = run_cli("fit --config " + job.string() + " --data.train.table=" + (dir / "bad.csv").string());
    CHECK(r.exit_code == 1);
    CHECK(r.output.find((dir / "bad.csv").string() + ":3:5: error: 'x3' in column 'c' is not a number") != std::string::npos);
  }
}

TEST_CASE("the shipped callbacks in one fit: progress, checkpoints, early stopping, a CSV log") {
  TempDir dir;
  const std::string callbacks = fmt::format(
      "'--trainer.callbacks=[{{plugin: progress_bar, init_args: {{refresh_s: 0}}}}, "
      "{{plugin: model_checkpoint, init_args: {{dirpath: {0}/best, monitor: val_loss, save_top_k: 2}}}}, "
      "{{plugin: early_stopping, init_args: {{monitor: val_loss, mode: max, patience: 1}}}}, "
      "{{plugin: csv_logger, init_args: {{save_dir: {0}/logs}}}}]'",
      dir.path().string());
  const Result fit = run_cli(fmt::format("fit --config configs/fit.yaml --trainer.max_epochs=10 --trainer.default_root_dir={} {}",
                                         (dir / "run").string(), callbacks));
  INFO(fit.output);
  REQUIRE(fit.exit_code == 0);
  // Not a terminal here: plain log lines, not redrawn ones.
  CHECK(fit.output.find("info fit epoch 1/10 100% 6/6 [") != std::string::npos);
  CHECK(fit.output.find("batches/s] loss ") != std::string::npos);
  CHECK(fit.output.find("info validate 100% 6/6 [") != std::string::npos);
  CHECK(fit.output.find("\r") == std::string::npos);
  // val_loss falls, so in mode max it stops at the second check.
  CHECK(fit.output.find("fit stopped after epoch 1: early_stopping: val_loss has not improved by more than 0 for 1 check(s)") !=
        std::string::npos);
  CHECK(fs::exists(dir / "best" / "epoch=0-step=6.pt"));
  CHECK(fs::exists(dir / "best" / "epoch=1-step=12.pt"));
  const std::string csv = minitrain::testing::read_file(dir / "logs" / "version_0" / "metrics.csv");
  CHECK(csv.rfind("epoch,step,train_loss,val_accuracy,val_loss,val_perplexity\n0,6,", 0) == 0);

  const Result redrawn = run_cli(fmt::format("fit --config configs/fit.yaml --trainer.max_epochs=1 --trainer.default_root_dir={} "
                                             "'--trainer.callbacks=[{{plugin: progress_bar, init_args: {{terminal: always}}}}]'",
                                             (dir / "run2").string()));
  CHECK(redrawn.exit_code == 0);
  CHECK(redrawn.output.find("\r\033[Kfit epoch 1/1 100% 6/6 [") != std::string::npos);
}

TEST_CASE("a plugin from its own repository builds against the installed minitrain and runs from a job file") {
  TempDir dir;
  const fs::path prefix = dir / "prefix";
  const Result install = run(fmt::format("cmake --install '{}' --prefix '{}'", MINITRAIN_BINARY_DIR, prefix.string()));
  INFO(install.output);
  REQUIRE(install.exit_code == 0);
  for (const char* installed : {"bin/minitrain", "lib/libminitrain.so", "include/minitrain/plugin_host/plugin.hpp",
                                "lib/cmake/minitrain/minitrainConfig.cmake", "lib/minitrain/plugins/libprediction_writer.so"})
    CHECK(fs::exists(prefix / installed));

  const fs::path build = dir / "plugin_build";
  const Result plugin = run(fmt::format("cmake -S tests/e2e/out_of_tree_plugin -B '{}' -G Ninja -DCMAKE_BUILD_TYPE=Release "
                                        "-DCMAKE_PREFIX_PATH='{}' && cmake --build '{}'",
                                        build.string(), prefix.string(), build.string()));
  INFO(plugin.output);
  REQUIRE(plugin.exit_code == 0);

  // The installed CLI, the plugin found through MINITRAIN_PLUGIN_PATH, named in a job file.
  const fs::path job = minitrain::testing::write_file(dir / "job.yaml", fmt::format(R"(seed_everything: 1
trainer:
  max_epochs: 2
  default_root_dir: {}
  callbacks:
    - plugin: loss_watch
      init_args: {{every: 4, label: watched}}
model: {{class_path: protein_encoder, init_args: {{embed_dim: 16, num_heads: 2, num_layers: 1, ff_dim: 32}}}}
data: {{batch_size: 8, train: {{fasta: {}}}}}
)",
                                                                                       (dir / "run").string(), kFasta.string()));
  const Result fit = run(fmt::format("MINITRAIN_PLUGIN_PATH='{}' '{}' fit --config '{}'", build.string(),
                                     (prefix / "bin" / "minitrain").string(), job.string()));
  INFO(fit.output);
  REQUIRE(fit.exit_code == 0);
  CHECK(fit.output.find("watched: step 4 loss ") != std::string::npos);
  CHECK(fit.output.find("watched: step 12 loss ") != std::string::npos);
  const Result state = run(fmt::format("{} -c \"import torch; print(torch.load('{}')['callbacks'])\"", MINITRAIN_PYTHON,
                                       (dir / "run" / "checkpoints" / "last.pt").string()));
  CHECK(state.output.find("{'loss_watch': 12}") != std::string::npos);
  const Result listed = run(fmt::format("MINITRAIN_PLUGIN_PATH='{}' '{}' plugins", build.string(), (prefix / "bin" / "minitrain").string()));
  CHECK(listed.output.find("loss_watch 1.0.0") != std::string::npos);
  CHECK(listed.output.find("log the loss every N optimizer steps") != std::string::npos);
}

TEST_CASE("SIGINT and SIGTERM stop a run at a batch boundary: exit 130/143, every file complete, resume finishes it") {
  TempDir dir;
  const Result model = run(fmt::format(
      "{} -c \"import torch; torch.manual_seed(0); torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(64, 256), "
      "torch.nn.ReLU(), torch.nn.Linear(256, 16))), '{}')\"",
      MINITRAIN_PYTHON, (dir / "mlp.pt").string()));
  REQUIRE(model.exit_code == 0);
  const fs::path job = minitrain::testing::write_file(dir / "job.yaml", fmt::format(R"(trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {{write_interval: batch_and_epoch, output_dir: {0}/whole}}
model: {{torchscript: {0}/mlp.pt}}
data:
  batch_size: 256
  predict: {{synthetic: 300000, num_features: 64, num_classes: 16}}
)",
                                                                                      dir.path().string()));
  const std::string predict = fmt::format("'{}' predict --config {} ", kCli, job.string());
  const Result whole = run(predict);
  INFO(whole.output);
  REQUIRE(whole.exit_code == 0);

  // Interrupted once its fourth batch file exists.
  const std::string out = (dir / "interrupted").string();
  const std::string into = "--trainer.callbacks[0].init_args.output_dir=" + out;
  const Result stopped = run(fmt::format("{0} {1} 2>&1 & P=$!; while [ ! -e {2}/predictions__rank_0__batch_3.pt ]; do sleep 0.05; done; "
                                         "kill -INT $P; wait $P; echo \"exit $?\"",
                                         predict, into, out));
  INFO(stopped.output);
  CHECK(stopped.output.find("exit 130") != std::string::npos);
  CHECK(stopped.output.find("minitrain: interrupted by SIGINT (signal 2): stopped at a batch boundary") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "interrupted" / "predictions__rank_0.pt"));  // the epoch never ended
  std::size_t temporaries = 0;
  for (const auto& entry : fs::directory_iterator(dir / "interrupted"))
    if (entry.path().extension() != ".pt") ++temporaries;
  CHECK(temporaries == 0);
  const Result loads = run(fmt::format("{} -c \"import glob, torch; fs = glob.glob('{}/*.pt'); [torch.load(f) for f in fs]; "
                                       "print(len(fs), 'files load')\"",
                                       MINITRAIN_PYTHON, out));
  INFO(loads.output);
  CHECK(loads.exit_code == 0);

  const Result resumed = run(predict + into + " --trainer.callbacks[0].init_args.resume=true");
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  const Result compare = run(fmt::format("{} tests/e2e/compare_predictions.py {} {}", MINITRAIN_PYTHON,
                                         (dir / "whole").string(), out));
  INFO(compare.output);
  CHECK(compare.output.find("compare_predictions: OK: 1173 files equal") != std::string::npos);  // 1172 batches + the epoch

  SUBCASE("SIGTERM to a fit") {
    const std::string fit = fmt::format("'{}' fit --config configs/fit.yaml --trainer.max_epochs=100000 "
                                        "--trainer.default_root_dir={}",
                                        kCli, (dir / "fit").string());
    const Result r = run(fmt::format("{0} 2>&1 & P=$!; while [ ! -e {1}/checkpoints/last.pt ]; do sleep 0.05; done; "
                                     "kill -TERM $P; wait $P; echo \"exit $?\"",
                                     fit, (dir / "fit").string()));
    INFO(r.output);
    CHECK(r.output.find("exit 143") != std::string::npos);
    CHECK(r.output.find("interrupted by SIGTERM (signal 15)") != std::string::npos);
    const Result resume = run(fit + " --trainer.max_epochs=2 --ckpt_path=" + (dir / "fit" / "checkpoints" / "last.pt").string());
    CHECK(resume.exit_code == 0);
  }
}

TEST_CASE("plugins, --version and --print-config describe what will run") {
  const Result plugins = run_cli("plugins");
  CHECK(plugins.exit_code == 0);
  CHECK(plugins.output.find("prediction_writer 0.2.0") != std::string::npos);
  CHECK(plugins.output.find("write_interval") != std::string::npos);
  CHECK(plugins.output.find("batch|epoch|batch_and_epoch") != std::string::npos);
  for (const char* name : {"progress_bar", "model_checkpoint", "early_stopping", "csv_logger", "timer", "run_report"})
    CHECK(plugins.output.find(fmt::format("{} 0.1.0", name)) != std::string::npos);
  // The built-in kinds too, from the tables the job loader checks against (fasta's max_length: at least 3).
  for (const char* listed : {"patience", "Built-in models", "torchscript\n", "Dataset formats", "num_classes", "(at least 3)"})
    CHECK(plugins.output.find(listed) != std::string::npos);

  const Result version = run_cli("--version");
  CHECK(version.exit_code == 0);
  CHECK(version.output.find("LibTorch " MINITRAIN_TORCH_VERSION) != std::string::npos);
  CHECK(version.output.find("BLAS ") != std::string::npos);

  const Result printed = run_cli("fit --config configs/fit.yaml --print-config --trainer.max_epochs=9");
  INFO(printed.output);
  CHECK(printed.exit_code == 0);
  CHECK(printed.output.find("max_epochs: 9") != std::string::npos);
  CHECK(printed.output.find("mask_prob: 0.15") != std::string::npos);  // a default, filled in
}
