// Out-of-line virtual destructors: the vtables and type_info of the framework's
// interfaces live in the framework library, which host and plugins share.
#include "minitrain/callback.hpp"
#include "minitrain/data.hpp"
#include "minitrain/module.hpp"

namespace minitrain {

Callback::~Callback() = default;
Dataset::~Dataset() = default;
Module::~Module() = default;

const char* to_string(Stage stage) {
  switch (stage) {
    case Stage::fit: return "fit";
    case Stage::predict: return "predict";
  }
  return "?";
}

}  // namespace minitrain
