#pragma once
// A job given as several files, LightningCLI's habit:
//   minitrain predict --config base.yaml --config override.yaml
// Later files replace the values of earlier ones key by key: mappings are
// merged, anything else (a list, a scalar) is replaced whole. The source
// remembers which file each value came from, so errors name it.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <vector>

#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/param_check.hpp"

namespace minitrain {

// The merged job (a mapping). An unreadable, invalid or non-mapping file is a
// diagnostic, thrown at once: nothing further can be checked.
YAML::Node load_job_files(const std::vector<std::filesystem::path>& files, JobSource& source, Diagnostics& diagnostics);

}  // namespace minitrain
