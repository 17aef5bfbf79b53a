#include "prediction_writer.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <unistd.h>

#include <regex>

#include "minitrain/log.hpp"
#include "minitrain/serialization.hpp"

namespace minitrain::plugins {

namespace fs = std::filesystem;

namespace {

const std::regex kPredictionFile(R"(predictions__rank_\d+(__batch_\d+)?\.pt)");

std::vector<fs::path> prediction_files_in(const fs::path& dir, const std::regex& pattern) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (std::regex_match(entry.path().filename().string(), pattern)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void refuse_existing_predictions(const fs::path& dir, const std::regex& pattern) {
  const auto existing = prediction_files_in(dir, pattern);
  if (existing.empty()) return;
  throw Error(fmt::format("prediction_writer: output_dir {} already holds {} prediction file(s), e.g. {}\n  fix: set "
                          "overwrite: true to replace them, or choose another output_dir",
                          dir.string(), existing.size(), existing.front().filename().string()));
}

// The nearest ancestor that exists, for a writability check before anything is created.
fs::path existing_ancestor(fs::path path) {
  path = fs::absolute(path);
  std::error_code ec;
  while (!fs::exists(path, ec) && path.has_relative_path()) path = path.parent_path();
  return path;
}

// The prediction as a dict with string keys; other outputs are stored under "prediction".
c10::impl::GenericDict as_output_dict(const c10::IValue& prediction) {
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  if (prediction.isGenericDict()) {
    for (const auto& entry : prediction.toGenericDict()) {
      if (!entry.key().isString())
        throw Error(fmt::format("prediction_writer: predict_step returned a dict with a {} key; keys must be strings",
                                entry.key().tagKind()));
      const std::string& key = entry.key().toStringRef();
      if (key == "batch_idx" || key == "batch_indices")
        throw Error(fmt::format("prediction_writer: predict_step returned the key '{}', which the writer reserves; "
                                "rename that output",
                                key));
      out.insert(key, compact_cpu(entry.value()));
    }
  } else {
    out.insert("prediction", compact_cpu(prediction));
  }
  return out;
}

}  // namespace

PredictionWriter::PredictionWriter(const PluginArgs& args)
    : output_dir_(args.string("output_dir")),
      write_batches_(args.string("write_interval") != "epoch"),
      write_epochs_(args.string("write_interval") != "batch"),
      overwrite_(args.boolean("overwrite")) {
  collate_options_.batch_dim_key_defaults = args.string_int_map("batch_dim_key_defaults");
  collate_options_.seq_dim_key_defaults = args.string_int_map("seq_dim_key_defaults");
  // Fail before the run starts, and without writing anything.
  std::error_code ec;
  if (fs::exists(output_dir_, ec) && !fs::is_directory(output_dir_, ec))
    throw Error(fmt::format("prediction_writer: output_dir {} exists and is not a directory\n  fix: choose a directory path",
                            output_dir_.string()));
  if (fs::is_directory(output_dir_, ec) && !overwrite_) refuse_existing_predictions(output_dir_, kPredictionFile);
  const fs::path ancestor = existing_ancestor(output_dir_);
  if (!fs::is_directory(ancestor, ec) || ::access(ancestor.c_str(), W_OK | X_OK) != 0)
    throw Error(fmt::format("prediction_writer: output_dir {} cannot be written: {} is {}\n  fix: choose a directory "
                            "you can write to",
                            output_dir_.string(), ancestor.string(),
                            fs::is_directory(ancestor, ec) ? "not writable by this user" : "not a directory"));
}

void PredictionWriter::connect(Events& events) {
  connections_.emplace_back(events.setup.connect([this](const Setup& e) { on_setup(e); }));
  connections_.emplace_back(events.predict_batch_end.connect([this](const PredictBatchEnd& e) { on_batch_end(e); }));
  if (write_epochs_)
    connections_.emplace_back(events.predict_epoch_end.connect([this](const PredictEpochEnd& e) { on_epoch_end(e); }));
  connections_.emplace_back(events.predict_end.connect([this](const PredictEnd& e) { on_predict_end(e); }));
}

fs::path PredictionWriter::batch_file(std::int64_t batch_idx) const {
  return output_dir_ / fmt::format("predictions__rank_{}__batch_{}.pt", rank_, batch_idx);
}

fs::path PredictionWriter::epoch_file() const { return output_dir_ / fmt::format("predictions__rank_{}.pt", rank_); }

void PredictionWriter::on_setup(const Setup& event) {
  predicting_ = event.stage == Stage::predict;
  if (!predicting_) return;
  rank_ = event.global_rank;
  std::error_code ec;
  fs::create_directories(output_dir_, ec);
  if (ec)
    throw Error(fmt::format("prediction_writer: cannot create output_dir {}: {}\n  fix: choose a directory you can "
                            "write to",
                            output_dir_.string(), ec.message()));
  // This rank's files from an earlier run go, so none is left over from a run
  // that had more batches.
  const std::regex own_files(fmt::format(R"(predictions__rank_{}(__batch_\d+)?\.pt)", rank_));
  if (!overwrite_) {
    refuse_existing_predictions(output_dir_, own_files);
    return;
  }
  for (const fs::path& stale : prediction_files_in(output_dir_, own_files)) fs::remove(stale);
}

void PredictionWriter::on_batch_end(const PredictBatchEnd& event) {
  if (!predicting_ || event.prediction.isNone()) return;
  c10::impl::GenericDict output = as_output_dict(event.prediction);
  output.insert("batch_idx", at::tensor(std::vector<std::int64_t>{event.batch_idx}, at::kLong));
  output.insert("batch_indices",
                at::tensor(std::vector<std::int64_t>(event.batch_indices.begin(), event.batch_indices.end()), at::kLong));
  if (write_batches_) {
    save_pickled(output, batch_file(event.batch_idx));
    ++files_written_;
  }
  if (write_epochs_) epoch_batches_.emplace_back(std::move(output));
}

void PredictionWriter::on_epoch_end(const PredictEpochEnd&) {
  if (!predicting_ || epoch_batches_.empty()) return;
  const c10::IValue collated = batch_collator(epoch_batches_, collate_options_);
  epoch_batches_.clear();
  save_pickled(collated, epoch_file());
  ++files_written_;
}

void PredictionWriter::on_predict_end(const PredictEnd&) {
  log::info(fmt::format("prediction_writer: wrote {} file(s) to {}", files_written_, fs::absolute(output_dir_).string()));
}

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::PredictionWriter, minitrain::plugins::kPredictionWriterInfo)
