#include "minitrain/plugin_host/plugin_loader.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <torch/version.h>

#include <cstdlib>
#include <set>
#include <string_view>

#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/log.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

bool looks_like_path(const std::string& name) {
  return name.find('/') != std::string::npos || fs::path(name).extension() == ".so";
}

std::vector<std::string> candidate_names(const std::string& name) {
  return {name, "lib" + name + ".so", name + ".so"};
}

// "libprediction_writer.so" -> "prediction_writer"
std::string plugin_name_of(const fs::path& file) {
  std::string stem = file.stem().string();
  if (stem.rfind("lib", 0) == 0) stem = stem.substr(3);
  return stem;
}

std::vector<fs::path> plugin_files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && entry.path().extension() == ".so") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Loading a library runs its code with this process's rights, so a library
// that others may replace is refused: a world-writable file, or a directory on
// its way that anyone may write to without the sticky bit (as /tmp has). A
// group-writable file or directory is only warned about, as it is common
// with per-user groups.
void check_who_may_replace(const fs::path& file, const std::string& asked) {
  const fs::path absolute = fs::absolute(file).lexically_normal();
  struct stat info {};
  if (::stat(absolute.c_str(), &info) == 0 && (info.st_mode & S_IWOTH))
    throw PluginError(fmt::format("plugin '{}': refused to load {}: the file is world-writable, so anyone could replace "
                                  "the code minitrain would run.\n  fix: chmod o-w '{}'",
                                  asked, absolute.string(), absolute.string()));
  for (fs::path dir = absolute.parent_path();; dir = dir.parent_path()) {
    if (::stat(dir.c_str(), &info) == 0 && (info.st_mode & S_IWOTH) && !(info.st_mode & S_ISVTX))
      throw PluginError(fmt::format("plugin '{}': refused to load {}: the directory {} is world-writable without the "
                                    "sticky bit, so anyone could replace the library.\n  fix: chmod o-w '{}', or move "
                                    "the plugin to a directory only you can write",
                                    asked, absolute.string(), dir.string(), dir.string()));
    if (dir == dir.parent_path()) break;
  }
  for (const fs::path& path : {absolute, absolute.parent_path()}) {
    if (::stat(path.c_str(), &info) == 0 && (info.st_mode & S_IWGRP))
      log::warn(fmt::format("plugin '{}': {} is group-writable: everyone in its group could replace the code minitrain "
                            "runs (chmod g-w '{}' if that is not intended)",
                            asked, path.string(), path.string()));
  }
}

template <class Fn>
Fn symbol(void* handle, const char* name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

std::shared_ptr<Callback> LoadedPlugin::create(const PluginArgs& args) const {
  Callback* callback = create_(&args);
  if (!callback) throw PluginError(fmt::format("plugin '{}' ({}) returned no callback", info_->name, path_.string()));
  // The deleter holds the library handle: the object dies before its code can go.
  return std::shared_ptr<Callback>(callback, [handle = handle_, destroy = destroy_](Callback* c) { destroy(c); });
}

PluginLoader::PluginLoader(std::vector<fs::path> default_dirs) : default_dirs_(std::move(default_dirs)) {}

std::vector<fs::path> PluginLoader::executable_plugin_dirs() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path bin = exe.parent_path();
  return {(bin / ".." / "lib" / "minitrain" / "plugins").lexically_normal(), bin};
}

std::vector<fs::path> PluginLoader::search_dirs() const {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("MINITRAIN_PLUGIN_PATH")) {
    std::string list(env);
    std::size_t start = 0;
    while (start <= list.size()) {
      const std::size_t colon = list.find(':', start);
      const std::string entry = list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      // An empty entry would mean the current directory, which is never searched implicitly.
      if (!entry.empty()) dirs.emplace_back(entry);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  dirs.insert(dirs.end(), default_dirs_.begin(), default_dirs_.end());
  return dirs;
}

fs::path PluginLoader::find(const std::string& name_or_path) const {
  if (looks_like_path(name_or_path)) {
    const fs::path file(name_or_path);
    if (fs::is_regular_file(file)) return file;
    throw PluginError(fmt::format(
        "plugin '{}' not found: no such file{}.\n  fix: give the path to an existing plugin library, or just its name "
        "to search {}",
        name_or_path, file.is_relative() ? fmt::format(" (relative to {})", fs::current_path().string()) : "",
        "MINITRAIN_PLUGIN_PATH and the install's plugin directory"));
  }
  std::string looked;
  std::vector<std::string> found;
  std::set<std::string> seen;
  for (const fs::path& dir : search_dirs()) {
    for (const std::string& candidate : candidate_names(name_or_path)) {
      const fs::path file = dir / candidate;
      if (fs::is_regular_file(file)) return file;
    }
    looked += fmt::format("\n    {}  (tried {}, lib{}.so, {}.so)", dir.string(), name_or_path, name_or_path, name_or_path);
    for (const fs::path& file : plugin_files_in(dir)) {
      if (seen.insert(plugin_name_of(file)).second) found.push_back(plugin_name_of(file));
    }
  }
  std::string available = found.empty() ? "none" : fmt::format("{}", fmt::join(found, ", "));
  throw PluginError(fmt::format(
      "plugin '{}' not found{}.\n  looked in:{}\n  plugins found there: {}\n  fix: use one of those names, put lib{}.so "
      "in one of those directories, add its directory to MINITRAIN_PLUGIN_PATH, or write the path to the .so",
      name_or_path, did_you_mean(name_or_path, found), looked.empty() ? "\n    (no directories)" : looked, available,
      name_or_path));
}

LoadedPlugin PluginLoader::load(const std::string& name_or_path) const {
  return open(find(name_or_path), name_or_path);
}

LoadedPlugin PluginLoader::open(const fs::path& file, const std::string& asked) const {
  check_who_may_replace(file, asked);
  // RTLD_NODELETE: a library is never unmapped, so nothing it left behind
  // (a tensor deleter, a slot) can outlive its code.
  void* raw = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!raw) {
    const char* why = dlerror();
    throw PluginError(fmt::format("plugin '{}': cannot load {}: {}\n  fix: rebuild the plugin against this minitrain and "
                                  "its LibTorch, or check the file is a shared library for this machine",
                                  asked, file.string(), why ? why : "unknown error"));
  }
  LoadedPlugin plugin;
  plugin.handle_ = std::shared_ptr<void>(raw, [](void* h) { dlclose(h); });
  plugin.path_ = file;

  using HandshakeFn = const PluginHandshake* (*)();
  auto handshake_fn = symbol<HandshakeFn>(raw, "minitrain_plugin_handshake");
  if (!handshake_fn) {
    throw PluginError(fmt::format("plugin '{}': {} is not a minitrain plugin: it has no minitrain_plugin_handshake "
                                  "symbol.\n  fix: register the callback with MINITRAIN_REGISTER_PLUGIN(Class, info) "
                                  "in one .cpp of the plugin",
                                  asked, file.string()));
  }
  const PluginHandshake* handshake = handshake_fn();
  if (!handshake || handshake->abi_version != kPluginAbiVersion) {
    throw PluginError(fmt::format("plugin '{}': {} was built for plugin ABI version {}, this minitrain uses version "
                                  "{}.\n  fix: rebuild the plugin against this minitrain's headers",
                                  asked, file.string(), handshake ? handshake->abi_version : 0, kPluginAbiVersion));
  }
  if (handshake->info_size != sizeof(PluginInfo) || handshake->info_align != alignof(PluginInfo) || !handshake->info) {
    throw PluginError(fmt::format("plugin '{}': {} describes itself with a PluginInfo of size {} and alignment {}, "
                                  "this minitrain expects size {} and alignment {}.\n  fix: rebuild the plugin against "
                                  "this minitrain's headers",
                                  asked, file.string(), handshake->info_size, handshake->info_align, sizeof(PluginInfo),
                                  alignof(PluginInfo)));
  }
  const std::string_view plugin_torch = handshake->torch_version ? handshake->torch_version : "(unknown)";
  if (plugin_torch != TORCH_VERSION) {
    throw PluginError(fmt::format("plugin '{}': {} was built against LibTorch {}, this minitrain uses LibTorch {}: tensors "
                                  "cannot cross between the two.\n  fix: rebuild the plugin against LibTorch {} (the one "
                                  "`minitrain --version` names)",
                                  asked, file.string(), plugin_torch, TORCH_VERSION, TORCH_VERSION));
  }
  if (handshake->events_layout != kEventsLayout) {
    throw PluginError(fmt::format("plugin '{}': {} was built against another layout of minitrain's events (Events and "
                                  "its payloads differ from this minitrain's).\n  fix: rebuild the plugin against this "
                                  "minitrain's headers",
                                  asked, file.string()));
  }
  plugin.info_ = handshake->info;
  plugin.create_ = symbol<Callback* (*)(const PluginArgs*)>(raw, "minitrain_plugin_create");
  plugin.destroy_ = symbol<void (*)(Callback*)>(raw, "minitrain_plugin_destroy");
  if (!plugin.create_ || !plugin.destroy_ || !plugin.info_->name) {
    throw PluginError(fmt::format("plugin '{}': {} lacks minitrain_plugin_create/minitrain_plugin_destroy or a "
                                  "name.\n  fix: register it with MINITRAIN_REGISTER_PLUGIN rather than by hand",
                                  asked, file.string()));
  }
  return plugin;
}

std::vector<LoadedPlugin> PluginLoader::discover(std::vector<std::string>* problems) const {
  std::vector<LoadedPlugin> plugins;
  std::set<std::string> names;
  for (const fs::path& dir : search_dirs()) {
    for (const fs::path& file : plugin_files_in(dir)) {
      try {
        LoadedPlugin plugin = open(file, plugin_name_of(file));
        if (names.insert(plugin.info().name).second) plugins.push_back(std::move(plugin));
      } catch (const PluginError& e) {
        if (problems) problems->push_back(e.what());
      }
    }
  }
  return plugins;
}

}  // namespace minitrain
