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
#include "minitrain/core/trainer_settings.hpp"
#include "minitrain/models/module.hpp"
#include "minitrain/models/optimization.hpp"
#include "minitrain/io/training_checkpoint.hpp"

namespace torch::nn {
class Module;
}

namespace minitrain {

// The job's trainer settings plus what only a run knows.
struct TrainerOptions : TrainerSettings {
  c10::Device device = c10::Device(c10::kCPU);  // what trainer.accelerator resolved to
  int global_rank = 0;
  int world_size = 1;
  std::optional<OptimizerConfig> optimizer;              // replaces module.configure_optimizers()
  std::optional<ScheduleConfig> lr_scheduler;            // lr factor per optimizer step
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
  struct FitState;
  // fit, step by step: set up (optimizer, schedule, resume), then per epoch
  // train_one_epoch (each optimizer_step averaging gradients over ranks), validate.
  void run_fit(Module& module, DataLoader& loader, DataLoader* val_loader);
  FitState begin_fit(Module& module, DataLoader& loader);
  void resume(FitState& fit);
  MetricValues train_one_epoch(FitState& fit, Module& module, DataLoader& loader, std::int64_t epoch);
  void optimizer_step(FitState& fit);
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
