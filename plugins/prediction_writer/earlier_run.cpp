#include "earlier_run.hpp"

#include <fmt/format.h>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"

namespace minitrain {

namespace fs = std::filesystem;

EarlierRun::EarlierRun(const fs::path& output_dir) : output_dir_(output_dir) {
  try {
    if (const auto manifest = read_manifest(output_dir))
      for (const ManifestFile& file : manifest->files) files_.emplace(file.path, file);
  } catch (const DataError& e) {
    log::warn(fmt::format("prediction_writer: resume: {}; checking the files kept by their batch_indices instead", e.what()));
  }
}

const ManifestFile* EarlierRun::unchanged(const fs::path& file) const {
  const auto found = files_.find(file.lexically_relative(output_dir_).generic_string());
  if (found == files_.end()) return nullptr;
  const ManifestFile& listed = found->second;
  std::error_code ec;
  const auto bytes = fs::file_size(file, ec);
  bool same = !ec && bytes == listed.bytes && file_crc32(file) == listed.crc32;
  if (same && listed.ids_file) {
    const fs::path sidecar = output_dir_ / listed.ids_file->path;
    same = fs::file_size(sidecar, ec) == listed.ids_file->bytes && !ec && file_crc32(sidecar) == listed.ids_file->crc32;
  }
  if (same) return &listed;
  log::warn(fmt::format("prediction_writer: resume: {} changed since the run that {} lists wrote it; writing it again",
                        file.string(), kManifestName));
  fs::remove(file);
  return nullptr;
}

}  // namespace minitrain
