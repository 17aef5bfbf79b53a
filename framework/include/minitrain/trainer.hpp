#pragma once
// The fit and predict loops. The Trainer owns no callbacks: it announces what
// happens on Events, in Lightning's order, and callbacks listen.
#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "minitrain/data.hpp"
#include "minitrain/events.hpp"
#include "minitrain/module.hpp"
#include "minitrain/optimization.hpp"
#include "minitrain/training_checkpoint.hpp"

namespace minitrain {

struct TrainerOptions {
  std::int64_t max_epochs = 1;
  std::optional<std::int64_t> limit_train_batches;    // per epoch
  std::optional<std::int64_t> limit_predict_batches;
  c10::Device device = c10::Device(c10::kCPU);
  int global_rank = 0;
  int world_size = 1;
  std::optional<double> gradient_clip_val;        // clip the gradients' total norm to this
  std::int64_t accumulate_grad_batches = 1;        // optimizer step every N batches (and at epoch end)
  std::optional<OptimizerConfig> optimizer;        // replaces module.configure_optimizers()
  std::optional<ScheduleConfig> lr_scheduler;      // lr factor per optimizer step
  std::optional<std::filesystem::path> checkpoint_path;  // a training checkpoint written after every epoch
  std::optional<LoadedCheckpoint> resume_from;           // a training checkpoint to go on from
};

class Trainer {
 public:
  Trainer(TrainerOptions options, Events& events);

  void fit(Module& module, DataLoader& train_loader);
  void predict(Module& module, DataLoader& predict_loader);

  std::int64_t global_step() const { return global_step_; }
  const TrainerOptions& options() const { return options_; }

 private:
  void run_fit(Module& module, DataLoader& loader);
  void run_predict(Module& module, DataLoader& loader);
  // Fires the exception event, then lets the exception continue.
  [[noreturn]] void fail(Stage stage);

  TrainerOptions options_;
  Events& events_;
  std::int64_t global_step_ = 0;
};

}  // namespace minitrain
