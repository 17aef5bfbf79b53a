// What differs between the LibTorch versions minitrain supports — 1.13
// (Debian 12) and 2.6 (Debian 13) — in one place. Everything else is written
// once against both; a difference found later belongs here too.
#pragma once

#include <c10/util/StringUtil.h>
#include <torch/version.h>

#include <string>
#include <type_traits>

// AOTInductor's package loader (exported models, torch.export + aoti_compile_and_package)
// ships with LibTorch 2.6 and later; minitrain's exported-model support is built where it exists.
#if __has_include(<torch/csrc/inductor/aoti_package/model_package_loader.h>)
#define MINITRAIN_HAS_AOTI_PACKAGE_LOADER 1
#else
#define MINITRAIN_HAS_AOTI_PACKAGE_LOADER 0
#endif

namespace minitrain::compat {

// The LibTorch version exported models need (the first with AOTIModelPackageLoader in Debian).
inline constexpr const char* kExportedModelsNeed = "2.6";

// Optimizer::state() is keyed by a string of the parameter's TensorImpl address
// in 1.13 and by the address itself (void*) in 2.x; this gives the key either way.
template <class StateMap, class Tensor>
typename StateMap::key_type optimizer_state_key(const Tensor& parameter) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>)
    return c10::str(parameter.unsafeGetTensorImpl());
  else
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
}

// TCPStore asks for libuv by default since 2.4, and Debian's LibTorch is built
// without it ("use_libuv was requested but PyTorch was build without libuv
// support"); 1.13 has only plain sockets and no such option.
template <class StoreOptions>
void use_plain_sockets(StoreOptions& options) {
  if constexpr (requires { options.useLibUV; }) options.useLibUV = false;
}

}  // namespace minitrain::compat
