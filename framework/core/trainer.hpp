#pragma once
// The fit and predict loops. The Trainer owns no callbacks: it announces what
// happens on Events, in Lightning's order, and callbacks listen.
#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "minitrain/core/callback_list.hpp"
#include "minitrain/data/data.hpp"
#include "minitrain/distributed/distributed.hpp"
#include "minitrain/core/events.hpp"
#include "minitrain/models/module.hpp"
#include "minitrain/models/optimization.hpp"
#include "minitrain/io/training_checkpoint.hpp"

namespace torch::nn {
class Module;
}

namespace minitrain {

// What fit does with a training loss that is NaN or infinite.
enum class NonFiniteLoss {
  error,       // stop with an error naming the epoch and batch (the default)
  skip_batch,  // warn, leave the batch out of the gradients and of train_loss, go on
};

struct TrainerOptions {
  std::int64_t max_epochs = 1;
  std::optional<std::int64_t> limit_train_batches;    // per epoch
  std::optional<std::int64_t> limit_val_batches;
  std::optional<std::int64_t> limit_predict_batches;
  std::int64_t check_val_every_n_epoch = 1;        // validate after every Nth training epoch (and the last)
  c10::Device device = c10::Device(c10::kCPU);
  int global_rank = 0;
  int world_size = 1;
  std::optional<double> gradient_clip_val;        // clip the gradients' total norm to this
  std::int64_t accumulate_grad_batches = 1;        // optimizer step every N batches (and at epoch end)
  NonFiniteLoss on_nonfinite_loss = NonFiniteLoss::error;
  std::optional<OptimizerConfig> optimizer;        // replaces module.configure_optimizers()
  std::optional<ScheduleConfig> lr_scheduler;      // lr factor per optimizer step
  std::optional<std::filesystem::path> checkpoint_path;  // a training checkpoint written after every epoch
  std::optional<LoadedCheckpoint> resume_from;           // a training checkpoint to go on from
  CallbackList* callbacks = nullptr;  // whose state checkpoints keep and a resume restores
  // With several ranks: fit starts from rank 0's weights, averages the
  // gradients of every optimizer step over ranks, and reports metrics over
  // all ranks' samples. Null: this process is the whole run.
  Communicator* communicator = nullptr;
};

class Trainer {
 public:
  Trainer(TrainerOptions options, Events& events);

  // Trains; with a val_loader, validates every check_val_every_n_epoch epochs.
  void fit(Module& module, DataLoader& train_loader, DataLoader* val_loader = nullptr);
  // One validation epoch on its own; returns the metrics (val_loss, ...).
  MetricValues validate(Module& module, DataLoader& val_loader);
  void predict(Module& module, DataLoader& predict_loader);

  std::int64_t global_step() const { return global_step_; }
  const TrainerOptions& options() const { return options_; }

 private:
  void run_fit(Module& module, DataLoader& loader, DataLoader* val_loader);
  // Validation batches in eval mode without gradients, between validation_start and _end.
  MetricValues run_validation(Module& module, DataLoader& loader, std::int64_t epoch);
  void run_predict(Module& module, DataLoader& loader);
  // Every rank starts from rank 0's weights, seeded or not, as DDP does.
  void share_rank0_weights(torch::nn::Module& network);
  // Fires the exception event, then lets the exception continue.
  [[noreturn]] void fail(Stage stage);

  TrainerOptions options_;
  Events& events_;
  std::int64_t global_step_ = 0;
};

}  // namespace minitrain
