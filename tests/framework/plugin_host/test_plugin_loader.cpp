#include <cstdlib>
#include <optional>
#include <unistd.h>

#include "minitrain/plugin_host/plugin_loader.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
namespace fs = std::filesystem;

namespace {
const fs::path kFixtures = MINITRAIN_FIXTURE_DIR;
const fs::path kPlugins = MINITRAIN_PLUGIN_DIR;

std::string load_error(const PluginLoader& loader, const std::string& name) {
  try {
    loader.load(name);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "no error";
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};
}  // namespace

TEST_CASE("the real prediction_writer loads by name and describes itself") {
  const PluginLoader loader({kPlugins});
  const LoadedPlugin plugin = loader.load("prediction_writer");
  CHECK(std::string(plugin.info().name) == "prediction_writer");
  CHECK(plugin.path() == kPlugins / "libprediction_writer.so");
  REQUIRE(plugin.info().num_params == 14);
  CHECK(std::string(plugin.info().params[0].name) == "output_dir");
  CHECK(plugin.info().params[0].default_value == nullptr);
  CHECK((plugin.info().params[0].type == ParamType::OutputDir));  // no other callback may write there
  std::vector<std::string> names;
  for (const LoadedPlugin& found : loader.discover()) names.emplace_back(found.info().name);
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"csv_logger", "early_stopping", "model_checkpoint", "prediction_writer",
                                          "progress_bar", "run_report", "timer"});
}

TEST_CASE("a library without the handshake is refused with the fix") {
  const std::string message = load_error(PluginLoader(std::vector<fs::path>{}), (kFixtures / "no_hook.so").string());
  CHECK(message.find("is not a minitrain plugin: it has no minitrain_plugin_handshake symbol") != std::string::npos);
  CHECK(message.find("MINITRAIN_REGISTER_PLUGIN") != std::string::npos);
}

TEST_CASE("a plugin built for another ABI version is refused") {
  const std::string message = load_error(PluginLoader(std::vector<fs::path>{}), (kFixtures / "wrong_abi.so").string());
  CHECK(message.find("was built for plugin ABI version 999, this minitrain uses version " + std::to_string(kPluginAbiVersion)) != std::string::npos);
  CHECK(message.find("rebuild the plugin") != std::string::npos);
}

TEST_CASE("a plugin whose info struct has another layout is refused") {
  const std::string message = load_error(PluginLoader(std::vector<fs::path>{}), (kFixtures / "wrong_info_size.so").string());
  CHECK(message.find("a PluginInfo of size 16 and alignment 8, this minitrain expects size 40") != std::string::npos);
}

TEST_CASE("a plugin built against another LibTorch is refused, naming both versions") {
  const std::string message = load_error(PluginLoader(std::vector<fs::path>{}), (kFixtures / "other_torch.so").string());
  CHECK(message.find(std::string("was built against LibTorch 0.1.0, this minitrain uses LibTorch ") + TORCH_VERSION) !=
        std::string::npos);
  CHECK(message.find("fix: rebuild the plugin against LibTorch") != std::string::npos);
}

TEST_CASE("a plugin built against another layout of the events is refused") {
  const std::string message = load_error(PluginLoader(std::vector<fs::path>{}), (kFixtures / "other_events.so").string());
  CHECK(message.find("was built against another layout of minitrain's events") != std::string::npos);
  CHECK(message.find("fix: rebuild the plugin against this minitrain's headers") != std::string::npos);
}

TEST_CASE("a constructor that throws reaches the host as a PluginError naming the plugin") {
  const LoadedPlugin plugin = PluginLoader(std::vector<fs::path>{}).load((kFixtures / "throwing_ctor.so").string());
  CHECK_THROWS_WITH_AS(plugin.create(PluginArgs{}), "plugin 'throwing_ctor' failed to start: cannot open the database",
                       PluginError);
}

TEST_CASE("a missing plugin says what was asked, where it looked, what it found and how to fix it") {
  const PluginLoader loader({kPlugins});
  const std::string message = load_error(loader, "prediction_writr");
  CHECK(message.find("plugin 'prediction_writr' not found (did you mean prediction_writer?)") != std::string::npos);
  CHECK(message.find(kPlugins.string() + "  (tried prediction_writr, libprediction_writr.so, prediction_writr.so)") != std::string::npos);
  CHECK(message.find("plugins found there: ") != std::string::npos);
  CHECK(message.find("prediction_writer", message.find("plugins found there: ")) != std::string::npos);
  CHECK(message.find("MINITRAIN_PLUGIN_PATH") != std::string::npos);
  CHECK(load_error(loader, "/nowhere/libx.so").find("plugin '/nowhere/libx.so' not found: no such file") != std::string::npos);
}

TEST_CASE("MINITRAIN_PLUGIN_PATH is searched, the current directory never") {
  const PluginLoader loader(std::vector<fs::path>{});
  ScopedEnv env("MINITRAIN_PLUGIN_PATH", "/nonexistent:" + kFixtures.string());
  // By name through the path variable: no_hook.so is found (then refused as not a plugin).
  CHECK(load_error(loader, "no_hook").find("no minitrain_plugin_handshake") != std::string::npos);
  CHECK(loader.search_dirs() == std::vector<fs::path>{"/nonexistent", kFixtures});

  ScopedEnv no_path("MINITRAIN_PLUGIN_PATH", "");
  const fs::path cwd = fs::current_path();
  fs::current_path(kFixtures);
  const std::string message = load_error(loader, "no_hook");
  fs::current_path(cwd);
  CHECK(message.find("plugin 'no_hook' not found") != std::string::npos);
}

TEST_CASE("a plugin others could replace is refused with the reason and the fix") {
  minitrain::testing::TempDir dir;  // mkdtemp: 0700, below /tmp (world-writable, but sticky)
  const fs::path shared = dir / "shared";
  fs::create_directory(shared);
  const fs::path copy = shared / "libthrowing_ctor.so";
  fs::copy_file(kFixtures / "throwing_ctor.so", copy);
  fs::permissions(copy, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  const PluginLoader loader(std::vector<fs::path>{});
  CHECK(load_error(loader, copy.string()) == "no error");

  SUBCASE("a world-writable file") {
    fs::permissions(copy, fs::perms::others_write, fs::perm_options::add);
    const std::string message = load_error(loader, copy.string());
    CHECK(message.find("refused to load " + copy.string() + ": the file is world-writable") != std::string::npos);
    CHECK(message.find("fix: chmod o-w '" + copy.string() + "'") != std::string::npos);
  }
  SUBCASE("a world-writable directory without the sticky bit") {
    fs::permissions(shared, fs::perms::others_all, fs::perm_options::add);
    const std::string message = load_error(loader, copy.string());
    CHECK(message.find("the directory " + shared.string() + " is world-writable without the sticky bit") != std::string::npos);
    fs::permissions(shared, fs::perms::sticky_bit, fs::perm_options::add);
    CHECK(load_error(loader, copy.string()) == "no error");
  }
  SUBCASE("a group-writable file is loaded (with a warning)") {
    fs::permissions(copy, fs::perms::group_write, fs::perm_options::add);
    CHECK(load_error(loader, copy.string()) == "no error");
  }
}
