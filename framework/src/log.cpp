#include "minitrain/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace minitrain::log {

void setup() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("minitrain"));
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
}

void info(std::string_view message) { spdlog::info("{}", message); }
void warn(std::string_view message) { spdlog::warn("{}", message); }

}  // namespace minitrain::log
