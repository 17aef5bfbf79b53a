#pragma once
// What a callback may ask of a running fit, as Lightning's `trainer.should_stop`
// and `trainer.save_checkpoint`: a stop after the current batch, and a training
// checkpoint written where the callback wants it; and of any run, what it is
// (the job and the model, for records such as a prediction manifest) and the
// other ranks' words. Callbacks reach it through the Events they connect to
// (events.control).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace minitrain {

// Which job and which model a run is.
struct RunIdentity {
  std::string job_sha256;    // of the resolved job, as --print-config prints it
  std::string model;         // e.g. "protein_encoder", "torchscript model.pt"
  std::string weights_file;  // where the weights come from: the model file or ckpt_path ("": initial weights)
  std::string weights_sha256;
};

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

  // The run's identity, worked out on first use (hashing a model file takes a
  // moment); empty when whoever runs the job set none.
  const RunIdentity& identity() const;
  // The resolved job, as --print-config prints it; empty when whoever runs it set none.
  const std::string& job_yaml() const { return job_yaml_; }
  // Every rank's `text`, in rank order, on every rank: a collective, so every
  // rank must call it at the same point. In a one-process run, {text}.
  std::vector<std::string> all_gather(const std::string& text) const;

  // For whoever runs the job.
  using Gatherer = std::function<std::vector<std::string>(const std::string&)>;
  void set_identity(std::function<RunIdentity()> make_identity);
  void set_job_yaml(std::string yaml) { job_yaml_ = std::move(yaml); }
  void set_gatherer(Gatherer gatherer);

 private:
  bool stop_requested_ = false;
  std::string stop_reason_;
  CheckpointWriter writer_;
  std::function<RunIdentity()> make_identity_;
  mutable std::optional<RunIdentity> identity_;
  std::string job_yaml_;
  Gatherer gatherer_;
};

}  // namespace minitrain
