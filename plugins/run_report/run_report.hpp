#pragma once
// RunReport: a report page of a fit or a predict, kept up to date while it
// runs. Rank 0 records what it sees (losses, metrics, the learning rate,
// throughput, checkpoints and early-stopping decisions; rows, files, bytes and
// the writer's waiting time) in dir/run.jsonl (dir: by default the trainer's
// default_root_dir, as Lightning's loggers) and rewrites dir/report.html from
// it every refresh_every_s seconds (less often if drawing it would take over 5%
// of the run) and when the run ends, however it ends. `minitrain report DIR`
// draws the same page from the record at any time. Reporting never stops a
// run: a page or record that cannot be written is a warning, once.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "minitrain/core/callback.hpp"
#include "minitrain/plugin_host/plugin.hpp"
#include "minitrain/report/run_record.hpp"

namespace minitrain::plugins {

inline constexpr ParamSpec kRunReportParams[] = {
    {"dir", ParamType::Path, "null", "where run.jsonl and report.html go (null: trainer.default_root_dir)", nullptr},
    {"refresh_every_s", ParamType::Float, "10", "rewrite the page at most this often while the run goes on (0: at the end only)",
     nullptr, at_least(0)},
    {"log_every_n_steps", ParamType::Int, "1", "record the loss and learning rate every N optimizer steps", nullptr,
     at_least(1)},
};

class RunReport : public Callback {
 public:
  explicit RunReport(const PluginArgs& args);
  ~RunReport() override;
  void connect(Events& events) override;

 private:
  void check_dir() const;
  void start(const Setup& setup, const RunControl& control);
  void finish(const std::string& status, const std::string& message);
  // Records one thing, then rewrites the page if it is time (or `now`).
  template <class Record>
  void add(const Record& record, bool page_now = false);
  void write_page();

  std::filesystem::path dir_;  // empty until setup: trainer.default_root_dir
  double refresh_every_s_;
  std::int64_t every_n_steps_;
  std::unique_ptr<RunRecorder> recorder_;  // rank 0's, while a fit or predict runs
  int world_size_ = 1;
  bool failed_ = false;  // a write failed and was reported; the run goes on without the report
  double page_interval_s_ = 0;  // refresh_every_s, or longer while the page takes long to draw
  std::chrono::steady_clock::time_point last_page_;
  std::chrono::steady_clock::time_point epoch_start_;
  std::chrono::steady_clock::time_point last_batch_;
  std::int64_t epoch_batches_ = 0;
  std::int64_t epoch_samples_ = 0;
  std::int64_t last_step_ = -1;
  std::int64_t predicted_rows_ = 0;
  std::optional<WriterRecord> last_writer_;
};

}  // namespace minitrain::plugins
