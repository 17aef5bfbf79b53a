// Reading and merging the --config files of a job.
#include "minitrain/job/job_files.hpp"

#include <fmt/format.h>

#include <utility>

namespace minitrain {

namespace fs = std::filesystem;

namespace {

YAML::Node load_one(const fs::path& file, Diagnostics& diagnostics) {
  if (!fs::is_regular_file(file)) {
    diagnostics.error({file.string()}, "", fs::exists(file) ? "job file is not a regular file"
                                                             : "job file not found; pass an existing YAML file to --config");
    diagnostics.throw_if_any();
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    diagnostics.error({file.string(), e.mark.line + 1, e.mark.column + 1}, "", "invalid YAML: " + e.msg);
    diagnostics.throw_if_any();
  }
  if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    const YAML::Mark mark = root.Mark();
    diagnostics.error({file.string(), mark.line + 1, mark.column + 1}, "",
                      "a job file is a mapping with trainer, model and data sections");
    diagnostics.throw_if_any();
  }
  return root;
}

// Puts `later`'s values into `earlier`: mappings key by key, anything else
// whole. The later key node goes in with its value, so both keep their file's marks.
void merge_into(YAML::Node earlier, const YAML::Node& later, const std::string& yaml_path, const fs::path& file,
                JobSource& source) {
  for (const auto& kv : later) {
    const std::string key = kv.first.Scalar();
    const std::string path = child_path(yaml_path, key);
    // The const lookup: a mutable one would leave an empty entry for a key that is not there.
    YAML::Node current = std::as_const(earlier)[key];
    const bool present = current.IsDefined();
    if (present && current.IsMap() && kv.second.IsMap()) {
      merge_into(current, kv.second, path, file, source);
      continue;
    }
    if (present) earlier.remove(key);
    earlier.force_insert(kv.first, kv.second);
    source.add_file_value(path, file);
  }
}

}  // namespace

YAML::Node load_job_files(const std::vector<fs::path>& files, JobSource& source, Diagnostics& diagnostics) {
  source = JobSource(files.front());
  YAML::Node root = load_one(files.front(), diagnostics);
  for (std::size_t i = 1; i < files.size(); ++i) merge_into(root, load_one(files[i], diagnostics), "", files[i], source);
  return root;
}

}  // namespace minitrain
