#pragma once
// ModelCheckpoint: training checkpoints during fit, as Lightning's
// ModelCheckpoint. Every every_n_epochs epochs (or every every_n_train_steps
// optimizer steps) it writes one — what last.pt holds, resumable with
// --ckpt_path, from the middle of an epoch too — to dirpath/{filename}.pt,
// where {epoch}, {step} and, at epoch ends, any metric's name ({val_loss}) are
// filled in. With a monitor it keeps the save_top_k best by that metric (min or
// max) and deletes the others; without one it keeps the save_top_k latest.
// save_top_k -1 keeps all. save_last also keeps dirpath/last.pt, a copy of the
// latest. What it kept is in training checkpoints, so a resumed fit goes on
// ranking.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "minitrain/core/callback.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace minitrain::plugins {

inline constexpr ParamSpec kModelCheckpointParams[] = {
    {"dirpath", ParamType::Path, nullptr, "directory for the checkpoint files", nullptr},
    {"filename", ParamType::String, "epoch={epoch}-step={step}", "file name without .pt; {epoch}, {step}, {metric} filled in", nullptr},
    {"monitor", ParamType::String, "null", "metric that ranks checkpoints (null: keep the latest)", nullptr},
    {"mode", ParamType::Enum, "min", "min: lower is better; max: higher is better", "min|max"},
    {"save_top_k", ParamType::Int, "1", "how many to keep (-1: all)", nullptr, at_least(-1)},
    {"every_n_epochs", ParamType::Int, "1", "write a checkpoint every N epochs (0: not at epoch ends)", nullptr,
     at_least(0)},
    {"every_n_train_steps", ParamType::Int, "0", "also every N optimizer steps, mid-epoch (0: never; no monitor)", nullptr,
     at_least(0)},
    {"save_last", ParamType::Bool, "false", "also keep last.pt, a copy of the latest checkpoint", nullptr},
};

class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(const PluginArgs& args);
  void connect(Events& events) override;
  c10::IValue state_dict() const override;
  void load_state_dict(const c10::IValue& state) override;

 private:
  void on_epoch_end(const TrainEpochEnd& epoch, RunControl& control);
  void on_batch_end(const TrainBatchEnd& batch, RunControl& control);
  // Writes `file` if `score` makes the top k, and drops what falls out of it.
  void save_ranked(double score, const std::filesystem::path& file, const std::string& mode, std::int64_t epoch,
                   std::int64_t step, RunControl& control);
  std::filesystem::path file_for(std::int64_t epoch, std::int64_t step, const MetricValues& metrics) const;

  std::filesystem::path dirpath_;
  std::string filename_;
  std::string monitor_;  // empty: none
  std::string mode_;
  std::int64_t save_top_k_;
  std::int64_t every_n_epochs_;
  std::int64_t every_n_train_steps_;
  std::int64_t last_step_saved_ = -1;
  bool save_last_;
  int rank_ = 0;
  Events* events_ = nullptr;  // where its decisions are announced
  std::vector<std::pair<double, std::string>> kept_;  // (score, file), best first; score = epoch without a monitor
};

}  // namespace minitrain::plugins
