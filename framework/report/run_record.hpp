#pragma once
// The run record: what the run_report callback saw of a fit or a predict, one
// JSON object per line in DIR/run.jsonl, appended as the run goes. The report
// page is made from it alone (and from the prediction manifest it names), so
// `minitrain report DIR` draws the same page after the run, or during it.
// A restarted run appends to the same record: a later step or epoch replaces
// an earlier one of the same number.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace minitrain {

inline constexpr const char* kRunRecordName = "run.jsonl";

struct RunStart {
  double time = 0;  // seconds since the Unix epoch, as every record's
  std::string stage;
  int world_size = 1;
  int restart = 0;  // 0 for the first attempt
  std::string job_yaml;
  std::string runtime;  // versions, threads, BLAS
  std::string model;
};
struct StepRecord {
  double time = 0;
  std::int64_t epoch = 0;
  std::int64_t step = 0;  // optimizer steps so far, this one included
  double loss = 0;        // rank 0's batch loss
  double lr = 0;
};
struct EpochRecord {
  double time = 0;
  std::int64_t epoch = 0;
  std::int64_t step = 0;
  double train_seconds = 0;  // from the epoch's start to its last training batch
  std::int64_t batches = 0;  // training batches, on each rank
  std::int64_t samples = 0;  // training samples, all ranks together
  std::map<std::string, double> metrics;
};
struct CheckpointRecord {
  double time = 0;
  std::int64_t epoch = 0;
  std::int64_t step = 0;
  std::string path;
  std::string monitor;
  std::optional<double> score;
  std::string best_path;
};
struct EarlyStoppingRecord {
  double time = 0;
  std::int64_t epoch = 0;
  std::string monitor;
  double value = 0;
  double best = 0;
  std::int64_t wait = 0;
  std::int64_t patience = 0;
  std::string stop_reason;  // empty: went on
};
struct PredictRecord {
  double time = 0;
  std::int64_t batch = 0;
  std::int64_t rows = 0;  // rank 0's rows so far, this batch's included
};
struct WriterRecord {
  double time = 0;
  std::string output_dir;
  std::int64_t files = 0;
  std::int64_t rows = 0;
  std::int64_t bytes = 0;
  double waited_seconds = 0;
  bool done = false;
};
struct RunEnd {
  double time = 0;
  std::string status;  // finished, failed, interrupted
  std::string message;  // why it failed or stopped early
};

struct RunRecord {
  std::vector<RunStart> starts;  // one per attempt
  std::map<std::int64_t, StepRecord> steps;
  std::map<std::int64_t, EpochRecord> epochs;
  std::vector<CheckpointRecord> checkpoints;
  std::vector<EarlyStoppingRecord> early_stopping;
  std::vector<PredictRecord> predict;
  std::vector<WriterRecord> writer;
  std::optional<RunEnd> end;  // none while the run goes on (or after it was killed)
};

// Appends records to DIR/run.jsonl and keeps them in memory too. Lines are
// written whole, in batches: when 64 KiB are waiting, on flush() and at the
// end. A new record starts the file afresh; a restart appends.
class RunRecorder {
 public:
  RunRecorder(std::filesystem::path dir, bool append);
  ~RunRecorder();
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  void add(const RunStart& start);
  void add(const StepRecord& step);
  void add(const EpochRecord& epoch);
  void add(const CheckpointRecord& checkpoint);
  void add(const EarlyStoppingRecord& check);
  void add(const PredictRecord& batch);
  void add(const WriterRecord& progress);
  void add(const RunEnd& end);

  void flush();  // writes the lines waiting
  const RunRecord& record() const { return record_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  void append_line(const std::string& json);

  static constexpr std::size_t kFlushBytes = 64 << 10;
  std::filesystem::path file_;
  int fd_ = -1;
  std::string pending_;  // whole lines not yet written
  RunRecord record_;
};

// Reads DIR/run.jsonl. A last line without its newline (a run killed while
// writing it) is left out; any other line that is not a record is an error
// that names the file, line and column.
RunRecord read_run_record(const std::filesystem::path& dir);

}  // namespace minitrain
