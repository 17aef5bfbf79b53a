#pragma once
// What a callback may ask of a running fit, as Lightning's `trainer.should_stop`
// and `trainer.save_checkpoint`: a stop after the current batch, and a training
// checkpoint written where the callback wants it. Callbacks reach it through
// the Events they connect to (events.control).
#include <filesystem>
#include <functional>
#include <string>

namespace minitrain {

class RunControl {
 public:
  using CheckpointWriter = std::function<void(const std::filesystem::path&)>;

  // Fit ends after the current batch: the epoch's end events still fire and
  // the checkpoint is written, then fit_end. The first reason is kept.
  void request_stop(const std::string& reason);
  bool stop_requested() const { return stop_requested_; }
  const std::string& stop_reason() const { return stop_reason_; }

  // Writes a training checkpoint (what checkpoints/last.pt holds, resumable
  // with --ckpt_path) to `path`, atomically. Throws Error outside fit.
  void save_checkpoint(const std::filesystem::path& path) const;

  // For the Trainer: set while fit runs, cleared when it ends.
  void start_run(CheckpointWriter writer);
  void end_run();

 private:
  bool stop_requested_ = false;
  std::string stop_reason_;
  CheckpointWriter writer_;
};

}  // namespace minitrain
