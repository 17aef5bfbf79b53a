#pragma once
// Run messages, for the host and plugins alike. They go through the framework
// library so that every plugin's lines look like the host's and land on the
// same stream (stderr), whatever logging library the plugin was built with.
#include <string_view>

namespace minitrain::log {

void info(std::string_view message);
void warn(std::string_view message);

}  // namespace minitrain::log
