// SIGKILL at random moments of a predict job: no signal handler runs, so
// only the writer's write-then-rename keeps final names complete. Every kill
// is checked: each .pt present loads in Python, and a resumed run then ends
// with files equal to an uninterrupted run's.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "e2e/cli_runner.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using minitrain::testing::TempDir;
using namespace minitrain::e2e;

namespace {

// MINITRAIN_CRASH_SEED and MINITRAIN_CRASH_RUNS repeat or lengthen a run.
std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::stoull(value) : fallback;
}

}  // namespace

TEST_CASE("SIGKILL at random points of predict: every .pt present loads, and resume ends equal to an uninterrupted run") {
  TempDir dir;
  const Result model = run(fmt::format(
      "{} -c \"import torch; torch.manual_seed(0); torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(64, 256), "
      "torch.nn.ReLU(), torch.nn.Linear(256, 512))), '{}')\"",
      MINITRAIN_PYTHON, (dir / "mlp.pt").string()));
  REQUIRE(model.exit_code == 0);
  const fs::path job = minitrain::testing::write_file(dir / "job.yaml", fmt::format(R"(trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {{output_dir: {0}/whole}}
model: {{torchscript: {0}/mlp.pt}}
data:
  batch_size: 256
  predict: {{synthetic: 20000, num_features: 64, num_classes: 16}}
)",
                                                                                      dir.path().string()));
  // Every second run writes one epoch file only (the writer spills batches to disk until the epoch ends).
  const std::string modes[] = {"batch_and_epoch", "epoch"};
  auto predict = [&](const std::string& mode, const std::string& out) {
    return fmt::format("'{}' predict --config {} --trainer.callbacks[0].init_args.write_interval={} "
                       "--trainer.callbacks[0].init_args.output_dir={}",
                       kCli, job.string(), mode, out);
  };

  double whole_seconds[2];
  for (int m = 0; m < 2; ++m) {
    const auto start = std::chrono::steady_clock::now();
    const Result whole = run(predict(modes[m], (dir / ("whole_" + modes[m])).string()));
    whole_seconds[m] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(whole.output);
    REQUIRE(whole.exit_code == 0);
  }

  const std::uint64_t seed = env_or("MINITRAIN_CRASH_SEED", std::random_device{}());
  const std::uint64_t runs = env_or("MINITRAIN_CRASH_RUNS", 6);
  MESSAGE("kill points drawn with MINITRAIN_CRASH_SEED=", seed);
  std::mt19937_64 random(seed);
  std::uint64_t kills = 0;
  for (std::uint64_t i = 0; i < runs; ++i) {
    const std::string& mode = modes[i % 2];
    const std::string out = (dir / fmt::format("killed_{}", i)).string();
    const double delay = std::uniform_real_distribution<double>(0.0, whole_seconds[i % 2])(random);
    CAPTURE(seed);
    CAPTURE(i);
    CAPTURE(mode);
    CAPTURE(delay);
    const Result killed = run(fmt::format("{} >/dev/null 2>&1 & P=$!; sleep {:.3f}; kill -KILL $P; wait $P; echo \"exit $?\"",
                                          predict(mode, out), delay));
    INFO(killed.output);
    const bool was_killed = killed.output.find("exit 137") != std::string::npos;
    CHECK((was_killed || killed.output.find("exit 0") != std::string::npos));  // or it had finished
    kills += was_killed;

    const Result loads = run(fmt::format("{} -c \"import glob, torch; fs = glob.glob('{}/**/*.pt', recursive=True); "
                                         "[torch.load(f) for f in fs]; print(len(fs), 'files load')\"",
                                         MINITRAIN_PYTHON, out));
    INFO(loads.output);
    CHECK(loads.exit_code == 0);

    const Result resumed = run(predict(mode, out) + " --trainer.callbacks[0].init_args.resume=true");
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    const Result compare = run(fmt::format("{} tests/e2e/compare_predictions.py {} {}", MINITRAIN_PYTHON,
                                           (dir / ("whole_" + mode)).string(), out));
    INFO(compare.output);
    CHECK(compare.exit_code == 0);
    CHECK(compare.output.find(mode == "epoch" ? "OK: 1 files equal" : "OK: 80 files equal") != std::string::npos);
    fs::remove_all(out);
  }
  MESSAGE(kills, " of ", runs, " runs were killed before they finished");
  CHECK(kills > 0);
}
