#pragma once
// Run messages, for the host and plugins alike. They go through the framework
// library so that every plugin's lines look like the host's and land on the
// same stream (stderr), whatever logging library the plugin was built with.
#include <string_view>

namespace minitrain::log {

void info(std::string_view message);
void warn(std::string_view message);
// In a run of several ranks, lines name their rank and only rank 0 logs
// information; every rank still reports warnings.
void set_rank(int rank, int world_size);

}  // namespace minitrain::log
