#pragma once
// What the Trainer needs from a model, as in a LightningModule: a training
// step that returns the loss, a validation step that reports metrics, a
// predict step that returns the outputs, and the optimizer to use. The network
// itself is a torch::nn::Module.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <memory>

#include "minitrain/data/data.hpp"
#include "minitrain/models/metrics.hpp"

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace minitrain {

class Module {
 public:
  virtual ~Module();
  virtual torch::nn::Module& network() = 0;
  // The scalar loss of one batch; the Trainer runs backward and the step.
  virtual at::Tensor training_step(const Batch& batch, std::int64_t batch_idx) = 0;
  // One validation batch's metrics; the Trainer runs it in eval mode without
  // gradients. The default reports training_step's loss as "loss".
  virtual StepMetrics validation_step(const Batch& batch, std::int64_t batch_idx);
  // A tensor or a (nested) dict/list/tuple of tensors for one batch.
  virtual c10::IValue predict_step(const Batch& batch, std::int64_t batch_idx) = 0;
  virtual std::unique_ptr<torch::optim::Optimizer> configure_optimizers() = 0;
};

}  // namespace minitrain
