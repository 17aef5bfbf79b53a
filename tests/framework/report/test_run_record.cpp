#include <cmath>
#include <limits>
#include <string>

#include "minitrain/base/error.hpp"
#include "minitrain/report/run_record.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::read_file;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;
namespace fs = std::filesystem;

namespace {

void record_a_fit(const fs::path& dir, bool append, int restart, double loss_at_step_2) {
  RunRecorder recorder(dir, append);
  recorder.add(RunStart{100.0, "fit", 2, restart, "trainer: {max_epochs: 2}\n", "minitrain 0.1.0", "protein_encoder"});
  recorder.add(StepRecord{101.0, 0, 1, 3.5, 0.001});
  recorder.add(StepRecord{101.5, 0, 2, loss_at_step_2, 0.002});
  recorder.add(EpochRecord{102.0, 0, 2, 1.5, 2, 16, {{"train_loss", 3.0}, {"val_loss", 2.5}}});
  recorder.add(CheckpointRecord{102.1, 0, 2, "best/epoch=0.pt", "val_loss", 2.5, "best/epoch=0.pt"});
  recorder.add(EarlyStoppingRecord{102.2, 0, "val_loss", 2.5, 2.5, 0, 3, ""});
  recorder.add(RunEnd{103.0, "finished", ""});
}

}  // namespace

TEST_CASE("a run record reads back as it was written, a diverged loss included") {
  TempDir dir;
  const double inf = std::numeric_limits<double>::infinity();
  record_a_fit(dir.path(), false, 0, inf);
  const RunRecord record = read_run_record(dir.path());
  REQUIRE(record.starts.size() == 1);
  CHECK(record.starts[0].stage == "fit");
  CHECK(record.starts[0].world_size == 2);
  CHECK(record.starts[0].job_yaml == "trainer: {max_epochs: 2}\n");
  REQUIRE(record.steps.size() == 2);
  CHECK(record.steps.at(1).loss == 3.5);
  CHECK(record.steps.at(2).loss == inf);
  CHECK(record.steps.at(2).lr == 0.002);
  REQUIRE(record.epochs.size() == 1);
  CHECK(record.epochs.at(0).metrics.at("val_loss") == 2.5);
  CHECK(record.epochs.at(0).samples == 16);
  REQUIRE(record.checkpoints.size() == 1);
  CHECK(*record.checkpoints[0].score == 2.5);
  CHECK(record.early_stopping.at(0).patience == 3);
  REQUIRE(record.end);
  CHECK(record.end->status == "finished");
  CHECK(read_file(dir / "run.jsonl").find("\"loss\":\"inf\"") != std::string::npos);  // JSON has no infinity
}

TEST_CASE("a new record starts afresh; a restart appends, its steps and epochs replacing those of the same number") {
  TempDir dir;
  record_a_fit(dir.path(), false, 0, 3.0);
  record_a_fit(dir.path(), false, 0, 2.0);
  CHECK(read_run_record(dir.path()).starts.size() == 1);
  {
    RunRecorder restarted(dir.path(), true);
    CHECK(restarted.record().starts.size() == 1);  // what the attempt before recorded
    restarted.add(RunStart{200.0, "fit", 2, 1, "", "", "protein_encoder"});
    restarted.add(StepRecord{201.0, 0, 2, 1.25, 0.002});
  }
  const RunRecord record = read_run_record(dir.path());
  CHECK(record.starts.size() == 2);
  CHECK(record.starts[1].restart == 1);
  CHECK(record.steps.size() == 2);
  CHECK(record.steps.at(2).loss == 1.25);
}

TEST_CASE("reading a run record: a torn last line is left out; anything else that is not a record is an error with its place") {
  TempDir dir;
  record_a_fit(dir.path(), false, 0, 3.0);
  const std::string whole = read_file(dir / "run.jsonl");
  write_file(dir / "run.jsonl", whole + "{\"record\":\"step\",\"ti");
  CHECK(read_run_record(dir.path()).steps.size() == 2);

  const std::string file = (dir / "run.jsonl").string();
  write_file(dir / "run.jsonl", whole.substr(0, whole.find('\n') + 1) + "{\"record\": step}\n");
  CHECK_THROWS_WITH_AS(read_run_record(dir.path()),
                       doctest::Contains((file + ":2:12: error: not a run record: [json.exception.parse_error.101]").c_str()),
                       DataError);
  write_file(dir / "run.jsonl", whole.substr(0, whole.find('\n') + 1) + "{\"record\": \"step\", \"time\": 1, \"epoch\": 0}\n");
  CHECK_THROWS_WITH_AS(read_run_record(dir.path()), doctest::Contains((file + ":2: error: not a run record: ").c_str()), DataError);
  write_file(dir / "run.jsonl", whole.substr(0, whole.find('\n') + 1) + "{\"record\": \"lap\", \"time\": 1}\n");
  CHECK_THROWS_WITH_AS(read_run_record(dir.path()), doctest::Contains("unknown record \"lap\""), DataError);

  write_file(dir / "run.jsonl", "");
  CHECK_THROWS_WITH_AS(read_run_record(dir.path()), (file + ": error: the run record is empty; the run had not started").c_str(),
                       DataError);
  CHECK_THROWS_WITH_AS(read_run_record(dir / "nowhere"),
                       ((dir / "nowhere").string() + " has no run.jsonl: the run_report callback writes it; add it to the "
                                                     "job's trainer.callbacks, e.g. - plugin: run_report, init_args: {dir: " +
                        (dir / "nowhere").string() + "}")
                           .c_str(),
                       Error);
}
