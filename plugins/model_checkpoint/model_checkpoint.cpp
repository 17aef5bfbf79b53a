#include "model_checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"

namespace minitrain::plugins {

namespace fs = std::filesystem;

ModelCheckpoint::ModelCheckpoint(const PluginArgs& args)
    : dirpath_(args.string("dirpath")),
      filename_(args.string("filename")),
      monitor_(args.has("monitor") ? args.string("monitor") : ""),
      mode_(args.string("mode")),
      save_top_k_(args.integer("save_top_k")),
      every_n_epochs_(args.integer("every_n_epochs")),
      every_n_train_steps_(args.integer("every_n_train_steps")),
      save_last_(args.boolean("save_last")) {
  if (every_n_train_steps_ > 0 && !monitor_.empty())
    throw Error("model_checkpoint: every_n_train_steps keeps the latest checkpoints; a monitor ranks epoch ends only "
                "(use every_n_epochs with it, or another model_checkpoint for the steps)");
}

void ModelCheckpoint::connect(Events& events) {
  events_ = &events;
  on(events.setup, [this](const Setup& s) { rank_ = s.global_rank; });
  on(events.train_epoch_end, [this, &events](const TrainEpochEnd& e) { on_epoch_end(e, events.control); });
  if (every_n_train_steps_ > 0)
    on(events.train_batch_end, [this, &events](const TrainBatchEnd& e) { on_batch_end(e, events.control); });
}

fs::path ModelCheckpoint::file_for(std::int64_t epoch, std::int64_t step, const MetricValues& metrics) const {
  std::string name = filename_;
  auto fill = [&name](const std::string& field, const std::string& value) {
    for (std::size_t at = name.find(field); at != std::string::npos; at = name.find(field, at + value.size()))
      name.replace(at, field.size(), value);
  };
  fill("{epoch}", std::to_string(epoch));
  fill("{step}", std::to_string(step));
  for (const auto& [metric, value] : metrics) fill("{" + metric + "}", fmt::format("{:.4f}", value));
  if (name.find('{') != std::string::npos)
    throw Error(fmt::format("model_checkpoint: filename '{}' names a field this checkpoint does not have; it has epoch, "
                            "step and {}",
                            filename_, metric_names(metrics)));
  return dirpath_ / (name + ".pt");
}

void ModelCheckpoint::on_batch_end(const TrainBatchEnd& batch, RunControl& control) {
  // Right after an optimizer step, so no half accumulation window is left out.
  if (batch.global_step % every_n_train_steps_ != 0 || batch.global_step == last_step_saved_) return;
  last_step_saved_ = batch.global_step;
  save_ranked(static_cast<double>(batch.global_step), file_for(batch.epoch, batch.global_step, {}), "max", batch.epoch,
              batch.global_step, control);
}

void ModelCheckpoint::on_epoch_end(const TrainEpochEnd& epoch, RunControl& control) {
  if (every_n_epochs_ == 0 || (epoch.epoch + 1) % every_n_epochs_ != 0 || save_top_k_ == 0) return;
  if (epoch.global_step == last_step_saved_ && monitor_.empty()) return;  // the step save just wrote this state
  double score = static_cast<double>(epoch.global_step);  // without a monitor, newer is better
  if (!monitor_.empty()) {
    const auto found = epoch.metrics.find(monitor_);
    if (found == epoch.metrics.end()) {
      if (awaits_validation(epoch.metrics, monitor_)) return;
      throw Error(fmt::format("model_checkpoint: monitor '{}' is not among the metrics of epoch {} ({})", monitor_,
                              epoch.epoch, metric_names(epoch.metrics)));
    }
    score = found->second;
  }
  save_ranked(score, file_for(epoch.epoch, epoch.global_step, epoch.metrics), monitor_.empty() ? "max" : mode_, epoch.epoch,
              epoch.global_step, control);
}

void ModelCheckpoint::save_ranked(double score, const fs::path& file, const std::string& mode, std::int64_t epoch,
                                  std::int64_t step, RunControl& control) {
  if (save_top_k_ == 0) return;
  const bool full = save_top_k_ != -1 && static_cast<std::int64_t>(kept_.size()) >= save_top_k_;
  if (full && !improves(score, kept_.back().first, mode)) {
    if (save_last_ && rank_ == 0) control.save_checkpoint(dirpath_ / "last.pt");
    return;
  }
  if (rank_ == 0) {  // the ranks' weights are equal; one writes
    fs::create_directories(dirpath_);
    control.save_checkpoint(file);
    if (save_last_) fs::copy_file(file, dirpath_ / "last.pt", fs::copy_options::overwrite_existing);
  }
  kept_.erase(std::remove_if(kept_.begin(), kept_.end(), [&](const auto& k) { return k.second == file.string(); }), kept_.end());
  kept_.emplace_back(score, file.string());
  std::stable_sort(kept_.begin(), kept_.end(), [&](const auto& a, const auto& b) { return improves(a.first, b.first, mode); });
  while (save_top_k_ != -1 && static_cast<std::int64_t>(kept_.size()) > save_top_k_) {
    if (rank_ == 0) fs::remove(kept_.back().second);
    kept_.pop_back();
  }
  if (rank_ == 0)
    log::info(fmt::format("model_checkpoint: saved {}{}", file.string(),
                          monitor_.empty() ? "" : fmt::format(" ({} {:.4f}; best {:.4f})", monitor_, score, kept_.front().first)));
  events_->checkpoint_saved(CheckpointSaved{epoch, step, file.string(), monitor_,
                                            monitor_.empty() ? std::numeric_limits<double>::quiet_NaN() : score,
                                            kept_.front().second});
}

c10::IValue ModelCheckpoint::state_dict() const {
  c10::impl::GenericDict state(c10::StringType::get(), c10::AnyType::get());
  c10::impl::GenericList files(c10::StringType::get());
  c10::impl::GenericList scores(c10::FloatType::get());
  for (const auto& [score, file] : kept_) {
    files.push_back(file);
    scores.push_back(score);
  }
  state.insert("kept_files", files);
  state.insert("kept_scores", scores);
  state.insert("best_model_path", kept_.empty() ? std::string() : kept_.front().second);
  return state;
}

void ModelCheckpoint::load_state_dict(const c10::IValue& state) {
  const auto dict = state.toGenericDict();
  const auto files = dict.at("kept_files").toListRef();
  const auto scores = dict.at("kept_scores").toListRef();
  kept_.clear();
  for (std::size_t i = 0; i < files.size() && i < scores.size(); ++i) kept_.emplace_back(scores[i].toDouble(), files[i].toStringRef());
}

constexpr PluginInfo kModelCheckpointInfo = {"model_checkpoint", "0.1.0",
                                             "training checkpoints every N epochs, keeping the best k by a metric",
                                             kModelCheckpointParams, std::size(kModelCheckpointParams)};

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::ModelCheckpoint, minitrain::plugins::kModelCheckpointInfo)
