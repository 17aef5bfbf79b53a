#include "run_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "minitrain/base/error.hpp"
#include "minitrain/base/interrupt.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/base/runtime_info.hpp"
#include "minitrain/distributed/distributed.hpp"
#include "minitrain/report/report_page.hpp"

namespace minitrain::plugins {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_between(Clock::time_point from, Clock::time_point to) { return std::chrono::duration<double>(to - from).count(); }

}  // namespace

RunReport::RunReport(const PluginArgs& args)
    : dir_(args.has("dir") ? args.string("dir") : ""),
      refresh_every_s_(args.number("refresh_every_s")),
      every_n_steps_(args.integer("log_every_n_steps")) {
  check_dir();
}

void RunReport::check_dir() const {
  if (fs::exists(dir_) && !fs::is_directory(dir_))
    throw Error(fmt::format("run_report: dir {} is a file, not a directory; name a directory for run.jsonl and report.html",
                            dir_.string()));
}

RunReport::~RunReport() = default;

void RunReport::connect(Events& events) {
  on(events.setup, [this, &events](const Setup& s) { start(s, events.control); });
  on(events.train_epoch_start, [this](const TrainEpochStart&) {
    epoch_start_ = last_batch_ = Clock::now();
    epoch_batches_ = epoch_samples_ = 0;
  });
  on(events.train_batch_end, [this](const TrainBatchEnd& e) {
    last_batch_ = Clock::now();
    ++epoch_batches_;
    epoch_samples_ += static_cast<std::int64_t>(e.batch_indices.size());
    // With accumulation, the first batch to see a new step is the one that took it.
    if (e.global_step == last_step_ || e.global_step % every_n_steps_ != 0) return;
    last_step_ = e.global_step;
    add(StepRecord{unix_now(), e.epoch, e.global_step, e.loss.item<double>(), e.lr});
  });
  on(events.train_epoch_end, [this](const TrainEpochEnd& e) {
    add(EpochRecord{unix_now(), e.epoch, e.global_step, seconds_between(epoch_start_, last_batch_), epoch_batches_,
                    epoch_samples_ * world_size_, {e.metrics.begin(), e.metrics.end()}});
  });
  on(events.checkpoint_saved, [this](const CheckpointSaved& c) {
    add(CheckpointRecord{unix_now(), c.epoch, c.global_step, c.path, c.monitor,
                         c.monitor.empty() ? std::nullopt : std::optional<double>(c.score), c.best_path});
  });
  on(events.early_stopping_check, [this](const EarlyStoppingCheck& e) {
    add(EarlyStoppingRecord{unix_now(), e.epoch, e.monitor, e.value, e.best, e.wait, e.patience, e.stop_reason});
  });
  on(events.predict_batch_end, [this](const PredictBatchEnd& e) {
    predicted_rows_ += static_cast<std::int64_t>(e.batch_indices.size());
    add(PredictRecord{unix_now(), e.batch_idx, predicted_rows_});
  });
  on(events.writer_progress, [this](const WriterProgress& w) {
    WriterRecord record{unix_now(), fs::absolute(w.output_dir).string(), w.files, w.rows, w.bytes, w.waited_s, w.done};
    const bool changed = !last_writer_ || record.files != last_writer_->files || record.done ||
                         record.waited_seconds - last_writer_->waited_seconds >= 0.001;
    if (!changed) return;
    last_writer_ = record;
    add(record);
  });
  // At teardown every callback has finished its part of the end (the writer its manifest).
  on(events.teardown, [this, &events](const Teardown&) { finish("finished", events.control.stop_reason()); });
  on(events.exception, [this](const ExceptionEvent& e) {
    bool interrupted = false;
    try {
      if (e.error) std::rethrow_exception(e.error);
    } catch (const Interrupted&) {
      interrupted = true;
    } catch (...) {
    }
    finish(interrupted ? "interrupted" : "failed", e.message);
  });
}

void RunReport::start(const Setup& setup, const RunControl& control) {
  world_size_ = setup.world_size;
  last_step_ = -1;
  predicted_rows_ = 0;
  last_writer_.reset();
  if (setup.global_rank != 0 || setup.stage == Stage::validate) return;  // the ranks see the same run; one records it
  if (dir_.empty()) {
    dir_ = setup.default_root_dir;
    check_dir();
  }
  const int restart = distributed_env().restart_count;
  try {
    recorder_ = std::make_unique<RunRecorder>(dir_, restart > 0);  // a restart adds to the attempt before
  } catch (const std::exception& e) {
    failed_ = true;
    log::warn(fmt::format("run_report: {}; the run goes on without its report", e.what()));
    return;
  }
  add(RunStart{unix_now(), to_string(setup.stage), setup.world_size, restart, control.job_yaml(), runtime_summary(),
               control.identity().model},
      true);
}

void RunReport::finish(const std::string& status, const std::string& message) {
  if (!recorder_) return;
  add(RunEnd{unix_now(), status, message}, true);
  if (!failed_) log::info(fmt::format("run_report: {}", (dir_ / kReportPageName).string()));
  recorder_.reset();
}

template <class Record>
void RunReport::add(const Record& record, bool page_now) {
  if (!recorder_ || failed_) return;
  try {
    recorder_->add(record);
    const bool due = refresh_every_s_ > 0 && seconds_between(last_page_, Clock::now()) >= page_interval_s_;
    if (page_now || due) write_page();
  } catch (const std::exception& e) {
    failed_ = true;
    log::warn(fmt::format("run_report: {}; the run goes on without its report", e.what()));
  }
}

void RunReport::write_page() {
  const Clock::time_point start = Clock::now();
  recorder_->flush();  // the record on disk as far as the page shows
  write_report_page(recorder_->record(), dir_ / kReportPageName, {refresh_every_s_, dir_.string()});
  last_page_ = Clock::now();
  // A long run's page takes longer to draw: drawn no more often than keeps that under 5% of the run.
  page_interval_s_ = std::max(refresh_every_s_, 20 * seconds_between(start, last_page_));
}

constexpr PluginInfo kRunReportInfo = {"run_report", "0.1.0", "a self-contained HTML report of a fit or predict, kept up to date",
                                       kRunReportParams, std::size(kRunReportParams)};

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::RunReport, minitrain::plugins::kRunReportInfo)
