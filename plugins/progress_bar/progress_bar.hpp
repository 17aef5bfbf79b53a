#pragma once
// ProgressBar: where a run is and how fast it goes — stage, epoch, batch,
// batches per second and the time left in the current loop. On a terminal the
// line is redrawn in place on stderr; when stderr is not a terminal (a log
// file, CI), a plain log line every refresh_s seconds and at each loop's end.
// Only rank 0 shows progress.
#include <chrono>
#include <cstdio>
#include <string>

#include "minitrain/core/callback.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace minitrain::plugins {

inline constexpr ParamSpec kProgressBarParams[] = {
    {"refresh_s", ParamType::Float, "10", "seconds between log lines when stderr is not a terminal", nullptr},
    {"terminal", ParamType::Enum, "auto", "redraw one line in place: auto (when stderr is a terminal), always or never",
     "auto|always|never"},
};

class ProgressBar : public Callback {
 public:
  explicit ProgressBar(const PluginArgs& args);
  void connect(Events& events) override;

 private:
  using Clock = std::chrono::steady_clock;
  void start_loop(std::string label, std::int64_t total);
  void advance(std::int64_t done, const std::string& extra);
  void finish_loop();
  std::string line(std::int64_t done, const std::string& extra) const;

  double refresh_s_;
  bool in_place_;
  bool enabled_ = true;
  std::int64_t max_epochs_ = 0;
  std::string label_;
  std::int64_t total_ = 0;
  std::int64_t done_ = 0;
  std::string extra_;
  Clock::time_point loop_start_;
  Clock::time_point last_shown_;
};

}  // namespace minitrain::plugins
