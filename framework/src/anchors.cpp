// Out-of-line virtual destructors and defaults: the vtables and type_info of the
// framework's interfaces live in the framework library, which host and plugins share.
#include <ATen/ATen.h>

#include "minitrain/callback.hpp"
#include "minitrain/data.hpp"
#include "minitrain/module.hpp"

namespace minitrain {

Callback::~Callback() = default;
c10::IValue Callback::state_dict() const { return {}; }
void Callback::load_state_dict(const c10::IValue&) {}

Dataset::~Dataset() = default;

Module::~Module() = default;
StepMetrics Module::validation_step(const Batch& batch, std::int64_t batch_idx) {
  const double samples = static_cast<double>(batch.size());
  return {{"loss", {training_step(batch, batch_idx).item<double>() * samples, samples}}};
}

const char* to_string(Stage stage) {
  switch (stage) {
    case Stage::fit: return "fit";
    case Stage::validate: return "validate";
    case Stage::predict: return "predict";
  }
  return "?";
}

}  // namespace minitrain
