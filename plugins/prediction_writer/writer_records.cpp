// What the PredictionWriter tells of the files it finished: each rank's list,
// gathered into rank 0's manifest.json, and its progress, announced as it goes
// for those that record the run (a report).
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "minitrain/base/log.hpp"
#include "minitrain/base/runtime_info.hpp"
#include "prediction_writer.hpp"

namespace minitrain::plugins {

void PredictionWriter::record(ManifestFile file) {
  std::lock_guard lock(manifest_mutex_);
  if (file.kind == "batch" || !write_batches())  // batch and epoch files hold the same rows: counted once
    rows_recorded_ += static_cast<std::int64_t>(file.indices.size());
  bytes_recorded_ += file.bytes;
  manifest_files_.push_back(std::move(file));
}

void PredictionWriter::announce_progress(bool done) const {
  WriterProgress progress{output_dir_.string(), files_written_ + files_kept_, 0, 0, writer_->waited_seconds(), done};
  {
    std::lock_guard lock(manifest_mutex_);
    progress.rows = rows_recorded_;
    progress.bytes = static_cast<std::int64_t>(bytes_recorded_);
  }
  events_->writer_progress(progress);
}

void PredictionWriter::write_manifest_of_every_rank() {
  std::vector<std::string> parts;
  {
    std::lock_guard lock(manifest_mutex_);
    parts = control_->all_gather(files_to_json(manifest_files_));  // every rank waits here for the others
  }
  if (rank_ != 0) return;
  const RunIdentity& identity = control_->identity();
  Manifest manifest{minitrain_version(), identity.job_sha256, identity.model, identity.weights_file,
                    identity.weights_sha256, world_size_, {}};
  for (const std::string& part : parts)
    for (ManifestFile& file : files_from_json(part)) manifest.files.push_back(std::move(file));
  std::sort(manifest.files.begin(), manifest.files.end(), [](const ManifestFile& a, const ManifestFile& b) {
    return std::tie(a.rank, a.kind, a.batches) < std::tie(b.rank, b.kind, b.batches);
  });
  write_manifest(manifest, output_dir_);
  log::info(fmt::format("prediction_writer: {} lists the {} file(s) of {} rank(s)", (output_dir_ / kManifestName).string(),
                        manifest.files.size(), world_size_));
}

}  // namespace minitrain::plugins
