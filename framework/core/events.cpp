// Names of the run's stages, for messages.
#include "minitrain/core/events.hpp"

namespace minitrain {

const char* to_string(Stage stage) {
  switch (stage) {
    case Stage::fit: return "fit";
    case Stage::validate: return "validate";
    case Stage::predict: return "predict";
  }
  return "?";
}

}  // namespace minitrain
