#pragma once
// The one checker of the parameter schema: a YAML mapping against a ParamSpec
// table. Unknown keys (with a did-you-mean), types, enum values, required
// keys and ranges, each problem collected with the file:line:col it came from.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/params.hpp"

namespace minitrain {

// Where each value of a job came from: a line of one of its files (later
// --config files replace values of earlier ones), or an override.
class JobSource {
 public:
  JobSource() = default;
  explicit JobSource(std::filesystem::path file) : files_{std::move(file)} {}
  // Values under `yaml_path` now come from `file` (a later --config file), until replaced again.
  void add_file_value(const std::string& yaml_path, const std::filesystem::path& file);
  void add_override(const std::string& yaml_path, const std::string& argument);
  SourceLocation locate(const YAML::Node& node, const std::string& yaml_path) const;
  const std::filesystem::path& file() const { return files_.front(); }  // the first job file

 private:
  std::vector<std::filesystem::path> files_;
  std::map<std::string, std::filesystem::path> file_values_;  // yaml path -> the later file it came from
  std::map<std::string, std::string> overrides_;              // yaml path -> "--a.b=c"
};

// Checks `args` (a map, or null for none) against a parameter table and returns
// the typed values, defaults included. Defaults are also written into `args`,
// so a printed config shows every value in force. Keys in `ignored_keys` are
// left for the caller.
PluginArgs validate_params(YAML::Node args, std::span<const ParamSpec> specs, const std::string& yaml_path,
                           const JobSource& source, Diagnostics& diagnostics,
                           std::span<const std::string> ignored_keys = {});

// Adds each problem of a checked section at the line of the key it blames.
void report_arg_problems(const std::vector<ArgProblem>& problems, const YAML::Node& args, const std::string& yaml_path,
                         const JobSource& source, Diagnostics& diagnostics);

// "a.b" from "a" and "b"; "b" when the parent is the root.
std::string child_path(const std::string& parent, const std::string& key);
// "'x'", "null", "a list", "a mapping": what a value is, for messages.
std::string describe(const YAML::Node& node);

}  // namespace minitrain
