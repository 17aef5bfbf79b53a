#include "progress_bar.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "minitrain/base/log.hpp"

namespace minitrain::plugins {

namespace {
std::string duration(double seconds) {
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{:02}:{:02}", s / 60, s % 60);
}
}  // namespace

ProgressBar::ProgressBar(const PluginArgs& args)
    : refresh_s_(args.number("refresh_s")),
      in_place_(args.string("terminal") == "always" || (args.string("terminal") == "auto" && ::isatty(STDERR_FILENO))) {}

void ProgressBar::connect(Events& events) {
  on(events.setup, [this](const Setup& s) { enabled_ = s.global_rank == 0; });
  on(events.fit_start, [this](const FitStart& f) { max_epochs_ = f.max_epochs; });
  on(events.train_epoch_start, [this](const TrainEpochStart& e) {
    start_loop(fmt::format("fit epoch {}/{}", e.epoch + 1, max_epochs_), e.num_batches);
  });
  on(events.train_batch_end, [this](const TrainBatchEnd& e) {
    advance(e.batch_idx + 1, fmt::format("loss {:.4f}", e.loss.item<double>()));
  });
  on(events.train_epoch_end, [this](const TrainEpochEnd&) { finish_loop(); });
  on(events.validation_epoch_start, [this](const ValidationEpochStart& e) {
    finish_loop();  // the training line of this epoch, before validation's
    start_loop("validate", e.num_batches);
  });
  on(events.validation_batch_end, [this](const ValidationBatchEnd& e) { advance(e.batch_idx + 1, ""); });
  on(events.validation_epoch_end, [this](const ValidationEpochEnd&) { finish_loop(); });
  on(events.predict_epoch_start, [this](const PredictEpochStart& e) { start_loop("predict", e.num_batches); });
  on(events.predict_batch_end, [this](const PredictBatchEnd& e) { advance(e.batch_idx + 1, ""); });
  on(events.predict_epoch_end, [this](const PredictEpochEnd&) { finish_loop(); });
  on(events.exception, [this](const ExceptionEvent&) { finish_loop(); });
}

void ProgressBar::start_loop(std::string label, std::int64_t total) {
  label_ = std::move(label);
  total_ = total;
  done_ = 0;
  extra_.clear();
  loop_start_ = last_shown_ = Clock::now();
}

std::string ProgressBar::line(std::int64_t done, const std::string& extra) const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - loop_start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  const int percent = total_ > 0 ? static_cast<int>(100 * done / total_) : 100;
  return fmt::format("{} {:3}% {}/{} [{}<{}, {:.2f} batches/s]{}{}", label_, percent, done, total_, duration(elapsed),
                     duration(left), rate, extra.empty() ? "" : " ", extra);
}

void ProgressBar::advance(std::int64_t done, const std::string& extra) {
  done_ = done;
  extra_ = extra;
  if (!enabled_ || label_.empty()) return;
  const Clock::time_point now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_shown_).count();
  if (in_place_) {
    if (since < 0.1 && done < total_) return;  // at most ten redraws a second
    std::fprintf(stderr, "\r\033[K%s", line(done, extra).c_str());
    std::fflush(stderr);
  } else {
    if (since < refresh_s_) return;
    log::info(line(done, extra));
  }
  last_shown_ = now;
}

void ProgressBar::finish_loop() {
  if (label_.empty()) return;
  if (enabled_) {
    if (in_place_) {
      std::fprintf(stderr, "\r\033[K%s\n", line(done_, extra_).c_str());
      std::fflush(stderr);
    } else {
      log::info(line(done_, extra_));
    }
  }
  label_.clear();
}

constexpr PluginInfo kProgressBarInfo = {"progress_bar", "0.1.0",
                                         "stage, epoch, batch, rate and time left; in place on a terminal",
                                         kProgressBarParams, std::size(kProgressBarParams)};

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::ProgressBar, minitrain::plugins::kProgressBarInfo)
