#include "minitrain/io/manifest_check.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/prediction_manifest.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

void check_unchanged(const fs::path& path, std::uint64_t listed_bytes, std::uint32_t listed_crc32) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (!ec && bytes == listed_bytes && file_crc32(path) == listed_crc32) return;
  throw DataError(fmt::format("{}: error: {} lists it with {} bytes and CRC-32 {:08x}, but {}: it changed after the run "
                              "wrote it\n  fix: write the predictions again (resume: true rewrites only what is missing)",
                              path.string(), kManifestName, listed_bytes, listed_crc32,
                              ec ? "it is missing" : fmt::format("it has {} bytes and CRC-32 {:08x}", bytes, file_crc32(path))));
}

}  // namespace

void check_against_manifest(const fs::path& input_dir) {
  const std::optional<Manifest> manifest = read_manifest(input_dir);
  if (!manifest) {
    log::warn(fmt::format("{}: no {}: the run that wrote these files may not have finished (or an older minitrain wrote "
                          "them); collecting the files that are there",
                          input_dir.string(), kManifestName));
    return;
  }
  std::set<std::string> listed;
  for (const ManifestFile& file : manifest->files) {
    listed.insert(file.path);
    check_unchanged(input_dir / file.path, file.bytes, file.crc32);
    if (file.ids_file) check_unchanged(input_dir / file.ids_file->path, file.ids_file->bytes, file.ids_file->crc32);
  }
  for (const auto& [file, name] : prediction_files_in(input_dir)) {
    if (name.temporary || listed.count(file.lexically_relative(input_dir).generic_string())) continue;
    throw DataError(fmt::format("{}: error: {} does not list this file, so the run it describes did not write it\n  fix: "
                                "remove it, or write every rank's predictions again into an empty output_dir",
                                file.string(), kManifestName));
  }
}

}  // namespace minitrain
