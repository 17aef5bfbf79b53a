#pragma once
// Turns a job file into a run: checks everything first (config, plugins and
// their init_args, data, weights), then creates the callbacks and runs the
// Trainer. Nothing is written before every check has passed.
#include <filesystem>
#include <string>
#include <vector>

#include "minitrain/core/events.hpp"

namespace minitrain::cli {

struct JobRequest {
  Stage stage;
  std::vector<std::filesystem::path> configs;  // --config, in order: later files override earlier ones
  std::vector<std::string> overrides;  // --a.b.c=value
  bool print_config = false;
};

void run_job(const JobRequest& request);

// `minitrain plugins`: every plugin found, with its version and parameters.
void list_plugins();

}  // namespace minitrain::cli
