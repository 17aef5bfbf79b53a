// Module's out-of-line destructor (its vtable lives in the framework library)
// and the default validation step: the training loss, weighted by samples.
#include "minitrain/models/module.hpp"

#include <ATen/ATen.h>

namespace minitrain {

Module::~Module() = default;

StepMetrics Module::validation_step(const Batch& batch, std::int64_t batch_idx) {
  const double samples = static_cast<double>(batch.size());
  return {{"loss", {training_step(batch, batch_idx).item<double>() * samples, samples}}};
}

}  // namespace minitrain
