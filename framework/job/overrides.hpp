#pragma once
// Command-line overrides of a job: `--trainer.max_epochs=3`,
// `--trainer.callbacks[0].init_args.output_dir=out`, applied to the parsed
// YAML before it is checked, each remembered so its errors name the override.
#include <yaml-cpp/yaml.h>

#include <string>

#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/param_check.hpp"

namespace minitrain {

// Sets the value `argument` names in `root`; a malformed argument is a diagnostic.
void apply_override(YAML::Node root, const std::string& argument, JobSource& source, Diagnostics& diagnostics);

}  // namespace minitrain
