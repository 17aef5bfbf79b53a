// minitrain launch --max_restarts: a rank killed once mid-fit or mid-predict,
// the ranks started again, and the end result equal to an uninterrupted run's;
// a failure that comes back every time ends the run after N restarts.
#include <fmt/format.h>

#include <string>

#include "e2e/cli_runner.hpp"
#include "e2e/linear_job.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using namespace minitrain::e2e;

namespace {

// Runs `minitrain launch ...` and, once `ready` holds, SIGKILLs the launcher's rank 1 once, as a machine
// fault would, and says "killed rank 1".
Result launch_and_kill_rank_1(const std::string& launch_args, const std::string& ready, const fs::path& log) {
  return run_cli_then(launch_args, ready,
                      "for p in $(pgrep -P $P); do tr '\\0' '\\n' </proc/$p/environ | grep -qx RANK=1 && kill -9 $p && "
                      "echo 'killed rank 1'; done",
                      log);
}

}  // namespace

TEST_CASE("a rank killed mid-fit: launch --max_restarts starts the ranks again from the last checkpoint, ending with an "
          "uninterrupted fit's weights") {
  TempDir dir;
  const fs::path job = linear_job(dir);
  const std::string fit = fmt::format("fit --config {} --data.batch_size=4 --trainer.max_epochs=100 --optimizer.init_args.lr=0.01 ",
                                      job.string());
  const Result whole = run_cli(fmt::format("launch --nproc 2 {} --trainer.default_root_dir={}", fit, (dir / "one").string()));
  INFO(whole.output);
  REQUIRE(whole.exit_code == 0);

  // The run's report follows it through the restart.
  const Result restarted = launch_and_kill_rank_1(
      fmt::format("launch --nproc 2 --max_restarts 1 {} --trainer.default_root_dir={} "
                  "--trainer.callbacks='[{{plugin: run_report}}]'",
                  fit, (dir / "two").string()),
      fmt::format("grep -q 'epoch 5 done' {}", (dir / "log").string()), dir / "log");
  INFO(restarted.output);
  REQUIRE(restarted.output.find("killed rank 1\n") != std::string::npos);
  CHECK(restarted.output.find("minitrain exit 0\n") != std::string::npos);
  CHECK(restarted.output.find("warning rank 1 was killed by SIGKILL (exit 137); stopping the other ranks") != std::string::npos);
  CHECK(restarted.output.find("warning restart 1 of 1: rank 1 was killed by SIGKILL (exit 137); starting all 2 ranks again "
                              "(fit goes on from its last training checkpoint, checkpoints/last.pt)") != std::string::npos);
  CHECK(restarted.output.find(fmt::format("resuming fit from {}", (dir / "two" / "checkpoints" / "last.pt").string())) !=
        std::string::npos);
  CHECK(restarted.output.find("epoch 99 done") != std::string::npos);
  check_same_trained_weights(dir, "one", "two", 0);
  const std::string page = minitrain::testing::read_file(dir / "two" / "report.html");
  CHECK(page.find("<dt>Restarts</dt><dd>1</dd>") != std::string::npos);
  CHECK(page.find("<span class=\"status finished\">finished</span>") != std::string::npos);
  CHECK(page.find("data-name=\"train_loss\" data-points=\"100\"") != std::string::npos);  // epochs done again counted once
}

TEST_CASE("a rank killed mid-predict: launch --max_restarts starts the ranks again, the writer keeps what was complete, and "
          "the files equal an uninterrupted run's") {
  TempDir dir;
  // 1,350 sequences: long enough to be killed in the middle.
  const Result fasta = run(fmt::format(
      "{} -c \"import sys; records = open('{}').read().split('>')[1:]; out = open('{}', 'w'); "
      "[out.write('>%s_%d\\n%s' % (r.split()[0], copy, r.partition('\\n')[2])) for copy in range(30) for r in records]\"",
      MINITRAIN_PYTHON, kFasta.string(), (dir / "many.fa").string()));
  REQUIRE(fasta.exit_code == 0);
  const std::string predict = fmt::format(
      "predict --config configs/predict.yaml --ckpt_path=null --data.predict.fasta={} --trainer.default_root_dir={} "
      "--trainer.callbacks[0].init_args.overwrite=false --trainer.callbacks[0].init_args.output_dir=",
      (dir / "many.fa").string(), (dir / "runs").string());
  const Result whole = run_cli(fmt::format("launch --nproc 2 {}{}", predict, (dir / "whole").string()));
  INFO(whole.output);
  REQUIRE(whole.exit_code == 0);

  const Result restarted = launch_and_kill_rank_1(
      fmt::format("launch --nproc 2 --max_restarts 2 {}{}", predict, (dir / "restarted").string()),
      fmt::format("test -e {}", (dir / "restarted" / "predictions__rank_1__batch_20.pt").string()), dir / "log");
  INFO(restarted.output);
  REQUIRE(restarted.output.find("killed rank 1\n") != std::string::npos);
  CHECK(restarted.output.find("minitrain exit 0\n") != std::string::npos);
  CHECK(restarted.output.find("warning restart 1 of 2: rank 1 was killed by SIGKILL (exit 137); starting all 2 ranks again "
                              "(a prediction_writer keeps the complete files written so far)") != std::string::npos);
  CHECK(restarted.output.find("prediction_writer: restart 1: keeping the complete files of the attempt that failed") !=
        std::string::npos);
  CHECK(restarted.output.find("complete file(s) of an earlier run") != std::string::npos);
  CHECK(restarted.output.find("restart 2 of 2") == std::string::npos);
  const Result compare = run(fmt::format("{} tests/e2e/compare_predictions.py {} {}", MINITRAIN_PYTHON,
                                         (dir / "whole").string(), (dir / "restarted").string()));
  INFO(compare.output);
  CHECK(compare.exit_code == 0);
  CHECK(compare.output.find("compare_predictions: OK: 170 files equal") != std::string::npos);
}

TEST_CASE("launch --max_restarts gives up after N restarts with the last error, and does not restart a wrong job") {
  TempDir dir;
  const fs::path job = linear_job(dir);
  // Momentum 0.9 at lr 0.05 makes this loss infinite after about a hundred epochs, on every attempt alike.
  const Result diverging = run_cli(fmt::format("launch --nproc 2 --max_restarts 2 fit --config {} --data.batch_size=4 "
                                               "--trainer.max_epochs=400 --trainer.default_root_dir={}",
                                               job.string(), (dir / "run").string()));
  INFO(diverging.output);
  CHECK(diverging.exit_code == 1);
  const auto restart_1 = diverging.output.find("warning restart 1 of 2: rank ");
  const auto restart_2 = diverging.output.find("warning restart 2 of 2: rank ");
  const auto gave_up = diverging.output.find("minitrain: error: giving up after 2 restart(s) (--max_restarts 2): rank ");
  REQUIRE(restart_1 != std::string::npos);
  REQUIRE(restart_2 != std::string::npos);
  REQUIRE(gave_up != std::string::npos);
  CHECK(restart_1 < restart_2);
  CHECK(restart_2 < gave_up);
  for (const auto at : {restart_1, restart_2, gave_up})  // each names the failing rank's own error
    CHECK(diverging.output.substr(at, 200).find(" exited with 1: the loss is inf at epoch ") != std::string::npos);

  const Result wrong = run_cli(fmt::format("launch --nproc 2 --max_restarts 2 fit --config {} --data.batch_size=0", job.string()));
  INFO(wrong.output);
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.output.find("exited with 2: command line (--data.batch_size=0): error: data.batch_size: must be at least 1, got 0: "
                          "the job itself is wrong, so it is not restarted") != std::string::npos);
  CHECK(wrong.output.find("restart 1 of 2") == std::string::npos);

  const Result negative = run_cli(fmt::format("launch --nproc 2 --max_restarts -1 fit --config {}", job.string()));
  INFO(negative.output);
  CHECK(negative.exit_code == 2);
  CHECK(negative.output.find("--max_restarts must be at least 0, got -1") != std::string::npos);
}

TEST_CASE("a SIGINT to the launcher stops every rank at a batch boundary and is not taken for a failure to restart") {
  TempDir dir;
  const fs::path job = linear_job(dir);
  const fs::path log = dir / "log";
  const Result r = run_cli_then(fmt::format("launch --nproc 2 --max_restarts 2 fit --config {} --data.batch_size=4 "
                                           "--trainer.max_epochs=100000 --optimizer.init_args.lr=0.001 --trainer.default_root_dir={}",
                                           job.string(), (dir / "run").string()),
                               fmt::format("grep -q 'epoch 1 done' {}", log.string()), "kill -INT $P", log);
  INFO(r.output);
  CHECK(r.output.find("minitrain exit 130\n") != std::string::npos);
  CHECK(r.output.find("minitrain: interrupted by SIGINT (signal 2): stopped at a batch boundary") != std::string::npos);
  CHECK(r.output.find("restart 1 of 2") == std::string::npos);
  // A rank waiting in a collective for one that already stopped was asked to stop too: no rank reports a failure.
  CHECK(r.output.find(" failed: ") == std::string::npos);
}
