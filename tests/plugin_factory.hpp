#pragma once
// A callback from a real plugin library, its init_args checked as the CLI checks them.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

#include "minitrain/job/config.hpp"
#include "minitrain/plugin_host/plugin_loader.hpp"

namespace minitrain::testing {

inline std::shared_ptr<Callback> make_plugin_callback(const std::filesystem::path& plugin_dir, const std::string& name,
                                                      const std::string& init_args_yaml) {
  const LoadedPlugin plugin = PluginLoader({plugin_dir}).load(name);
  Diagnostics diagnostics;
  const auto& info = plugin.info();
  PluginArgs args = validate_params(YAML::Load(init_args_yaml), std::span(info.params, info.num_params), "init_args",
                                    JobSource("job.yaml"), diagnostics);
  diagnostics.throw_if_any();
  return plugin.create(args);
}

}  // namespace minitrain::testing
