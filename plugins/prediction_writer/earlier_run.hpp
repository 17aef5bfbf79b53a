#pragma once
// What a finished earlier run into output_dir vouches for, for resume: its
// manifest.json lists every file with its bytes and CRC-32. A file it lists
// unchanged is kept without being read again; one it lists that has changed
// since (a truncated copy, a file edited by hand) is written again; one it
// does not list is checked by its batch_indices, as without a manifest.
#include <filesystem>
#include <map>
#include <string>

#include "minitrain/io/prediction_manifest.hpp"

namespace minitrain {

class EarlierRun {
 public:
  EarlierRun() = default;
  // Reads output_dir/manifest.json when there is one; an unreadable one is
  // warned of and ignored (the files are then checked as without it).
  explicit EarlierRun(const std::filesystem::path& output_dir);

  bool finished() const { return !files_.empty(); }

  // The manifest's entry for `file` when it lists it and the file still has
  // its bytes and CRC-32; nullptr when it does not list it. A listed file that
  // changed is removed (with a warning), so that it is written again.
  const ManifestFile* unchanged(const std::filesystem::path& file) const;

 private:
  std::filesystem::path output_dir_;
  std::map<std::string, ManifestFile> files_;  // by path relative to output_dir
};

}  // namespace minitrain
