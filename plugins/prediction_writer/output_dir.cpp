#include "output_dir.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/distributed/distributed.hpp"
#include "minitrain/io/prediction_files.hpp"

namespace minitrain::plugins {

namespace fs = std::filesystem;

namespace {

// The nearest ancestor that exists, for a writability check before anything is created.
fs::path existing_ancestor(fs::path path) {
  path = fs::absolute(path);
  std::error_code ec;
  while (!fs::exists(path, ec) && path.has_relative_path()) path = path.parent_path();
  return path;
}

}  // namespace

std::vector<fs::path> prediction_files(const fs::path& dir, std::optional<int> rank, bool with_temporaries) {
  std::vector<fs::path> files;
  for (const auto& [file, name] : prediction_files_in(dir)) {
    if ((!rank || name.rank == *rank) && (with_temporaries || !name.temporary)) files.push_back(file);
  }
  return files;
}

void refuse_existing_predictions(const fs::path& dir, std::optional<int> rank) {
  const auto existing = prediction_files(dir, rank, false);
  if (existing.empty()) return;
  throw Error(fmt::format("prediction_writer: output_dir {} already holds {} prediction file(s), e.g. {}\n  fix: set "
                          "overwrite: true to replace them, resume: true to complete an interrupted run, or choose "
                          "another output_dir",
                          dir.string(), existing.size(), fs::relative(existing.front(), dir).string()));
}

void check_output_dir(const fs::path& dir, bool refuse_existing) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw Error(fmt::format("prediction_writer: output_dir {} exists and is not a directory\n  fix: choose a directory path",
                            dir.string()));
  if (fs::is_directory(dir, ec) && refuse_existing) refuse_existing_predictions(dir, std::nullopt);
  const fs::path ancestor = existing_ancestor(dir);
  if (!fs::is_directory(ancestor, ec) || ::access(ancestor.c_str(), W_OK | X_OK) != 0)
    throw Error(fmt::format("prediction_writer: output_dir {} cannot be written: {} is {}\n  fix: choose a directory "
                            "you can write to",
                            dir.string(), ancestor.string(),
                            fs::is_directory(ancestor, ec) ? "not writable by this user" : "not a directory"));
}

bool resumes(bool resume, bool overwrite) {
  if (resume || overwrite) return resume;
  const int restart = distributed_env().restart_count;
  if (restart > 0)
    log::info(fmt::format("prediction_writer: restart {}: keeping the complete files of the attempt that failed, "
                          "as resume: true does", restart));
  return restart > 0;
}

}  // namespace minitrain::plugins
