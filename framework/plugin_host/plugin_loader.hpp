#pragma once
// Finds plugin libraries, checks their handshake and creates callbacks.
// Search order for a plugin NAME: a path written in the job file (contains a
// '/' or ends in .so); each directory of MINITRAIN_PLUGIN_PATH; the directories
// of the executable's install (bin/, ../lib/minitrain/plugins). In each it tries
// NAME, libNAME.so and NAME.so. The current directory is never searched.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "minitrain/core/callback.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace minitrain {

// An open plugin library. Copies share the handle; libraries are opened with
// RTLD_NODELETE, so code a callback left behind (a deleter, a slot) stays valid.
class LoadedPlugin {
 public:
  const PluginInfo& info() const { return *info_; }
  const std::filesystem::path& path() const { return path_; }
  // A callback from already-validated arguments. The returned pointer keeps
  // this library's handle alive for as long as the callback lives.
  std::shared_ptr<Callback> create(const PluginArgs& args) const;

 private:
  friend class PluginLoader;
  std::shared_ptr<void> handle_;
  std::filesystem::path path_;
  const PluginInfo* info_ = nullptr;
  Callback* (*create_)(const PluginArgs*) = nullptr;
  void (*destroy_)(Callback*) = nullptr;
};

class PluginLoader {
 public:
  // Directories searched after MINITRAIN_PLUGIN_PATH: by default the ones
  // beside the running executable.
  explicit PluginLoader(std::vector<std::filesystem::path> default_dirs = executable_plugin_dirs());

  // Throws PluginError saying what was asked, where it looked, what it found
  // and how to fix it.
  LoadedPlugin load(const std::string& name_or_path) const;
  std::filesystem::path find(const std::string& name_or_path) const;
  // Every plugin library in the search directories, loaded (failures skipped
  // and returned in `problems`).
  std::vector<LoadedPlugin> discover(std::vector<std::string>* problems = nullptr) const;
  std::vector<std::filesystem::path> search_dirs() const;

  static std::vector<std::filesystem::path> executable_plugin_dirs();

 private:
  LoadedPlugin open(const std::filesystem::path& file, const std::string& asked) const;
  std::vector<std::filesystem::path> default_dirs_;
};

}  // namespace minitrain
