#include "minitrain/base/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace minitrain::log {

namespace {
// Created on first use, so every program linked to the framework logs the same way, to stderr.
spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto created = spdlog::stderr_color_mt("minitrain");
    created->set_pattern("[%H:%M:%S] %^%l%$ %v");
    return created;
  }();
  return *instance;
}
}  // namespace

void info(std::string_view message) { logger().info("{}", message); }
void set_rank(int rank, int world_size) {
  if (world_size <= 1) return;
  logger().set_pattern(fmt::format("[%H:%M:%S] rank {} %^%l%$ %v", rank));
  logger().set_level(rank == 0 ? spdlog::level::info : spdlog::level::warn);
}
void warn(std::string_view message) { logger().warn("{}", message); }

}  // namespace minitrain::log
