#pragma once
// The plugin ABI. A plugin is a shared library whose registration macro
// expands to three extern "C" hooks:
//   minitrain_plugin_handshake()  ABI version, sizeof/alignof(PluginInfo), the info,
//                                 the Events layout and the LibTorch version it was built with
//   minitrain_plugin_create(args) a new Callback from validated init_args
//   minitrain_plugin_destroy(cb)  deletes it with the plugin's own allocator
// The host checks the handshake before it touches anything else, and validates
// init_args against the plugin's parameter table before calling create.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <torch/version.h>

#include "minitrain/core/callback.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/base/params.hpp"

namespace minitrain {

// Bump when PluginInfo, PluginHandshake, ParamSpec, PluginArgs, Callback or Events change shape.
inline constexpr std::uint32_t kPluginAbiVersion = 6;

struct PluginInfo {
  const char* name;         // what a job file writes under `plugin:`
  const char* version;      // the plugin's own version
  const char* description;  // one line, shown by `minitrain plugins`
  const ParamSpec* params;  // the init_args it accepts
  std::size_t num_params;
};

// abi_version stays first in every version, so the host reads the rest only
// from a plugin of its own version.
struct PluginHandshake {
  std::uint32_t abi_version;
  std::uint32_t info_size;
  std::uint32_t info_align;
  const PluginInfo* info;
  std::uint64_t events_layout;  // kEventsLayout as the plugin was built
  const char* torch_version;    // TORCH_VERSION of the LibTorch the plugin was built against
};

namespace detail {
// Wraps a plugin constructor so that whatever it throws reaches the host as a
// minitrain::Error naming the plugin.
template <class CallbackType>
Callback* create_callback(const PluginArgs& args, const char* plugin_name) {
  try {
    return new CallbackType(args);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw PluginError(std::string("plugin '") + plugin_name + "' failed to start: " + e.what());
  }
}
}  // namespace detail

}  // namespace minitrain

#define MINITRAIN_PLUGIN_EXPORT __attribute__((visibility("default")))

// Use once, in the plugin's .cpp:  MINITRAIN_REGISTER_PLUGIN(MyCallback, kMyCallbackInfo)
#define MINITRAIN_REGISTER_PLUGIN(CallbackType, info_object)                                  \
  extern "C" MINITRAIN_PLUGIN_EXPORT const ::minitrain::PluginHandshake*                    \
  minitrain_plugin_handshake() {                                                             \
    static const ::minitrain::PluginHandshake handshake{                                     \
        ::minitrain::kPluginAbiVersion, sizeof(::minitrain::PluginInfo),                     \
        alignof(::minitrain::PluginInfo), &(info_object), ::minitrain::kEventsLayout,        \
        TORCH_VERSION};                                                                       \
    return &handshake;                                                                       \
  }                                                                                          \
  extern "C" MINITRAIN_PLUGIN_EXPORT ::minitrain::Callback* minitrain_plugin_create(         \
      const ::minitrain::PluginArgs* args) {                                                 \
    return ::minitrain::detail::create_callback<CallbackType>(*args, (info_object).name);    \
  }                                                                                          \
  extern "C" MINITRAIN_PLUGIN_EXPORT void minitrain_plugin_destroy(::minitrain::Callback* cb) { \
    delete cb;                                                                               \
  }
