#pragma once
// The trainer's settings, declared in one place: the schema a job's `trainer:`
// section is checked against, the struct the Trainer and the job runner read
// (TrainerOptions in trainer.hpp adds what only a run knows), and the one
// function that fills the struct from the checked section. No LibTorch here:
// the job-file code includes it.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "minitrain/base/params.hpp"

namespace minitrain {

// What fit does with a training loss that is NaN or infinite.
enum class NonFiniteLoss {
  error,       // stop with an error naming the epoch and batch (the default)
  skip_batch,  // warn, leave the batch out of the gradients and of train_loss, go on
};

inline constexpr ParamSpec kTrainerParams[] = {
    {"max_epochs", ParamType::Int, "1", "epochs to train", nullptr, at_least(1)},
    {"limit_train_batches", ParamType::Int, "null", "train batches per epoch (null: all)", nullptr, at_least(0)},
    {"limit_val_batches", ParamType::Int, "null", "validation batches per validation (null: all)", nullptr, at_least(0)},
    {"check_val_every_n_epoch", ParamType::Int, "1", "validate after every Nth training epoch", nullptr, at_least(1)},
    {"limit_predict_batches", ParamType::Int, "null", "predict batches (null: all)", nullptr, at_least(0)},
    {"accelerator", ParamType::Enum, "cpu", "where the model runs", "cpu|cuda|auto"},
    {"devices", ParamType::Int, "1", "processes per machine (minitrain launch starts them)", nullptr, at_least(1)},
    {"num_nodes", ParamType::Int, "1", "machines; devices x num_nodes must equal WORLD_SIZE", nullptr, at_least(1)},
    {"distributed_timeout_s", ParamType::Int, "1800", "how long a rank waits for the others before it fails", nullptr,
     at_least(1)},
    {"default_root_dir", ParamType::Path, "runs", "where fit writes checkpoints/last.pt", nullptr},
    {"gradient_clip_val", ParamType::Float, "null", "clip the gradients' total norm to this (null: no clipping)", nullptr},
    {"accumulate_grad_batches", ParamType::Int, "1", "take an optimizer step every N batches", nullptr, at_least(1)},
    {"on_nonfinite_loss", ParamType::Enum, "error", "a NaN or infinite training loss: stop with an error, or skip the batch",
     "error|skip_batch"},
};

struct TrainerSettings {
  std::int64_t max_epochs = 1;
  std::optional<std::int64_t> limit_train_batches;  // per epoch
  std::optional<std::int64_t> limit_val_batches;
  std::optional<std::int64_t> limit_predict_batches;
  std::int64_t check_val_every_n_epoch = 1;  // validate after every Nth training epoch (and the last)
  std::string accelerator = "cpu";           // cpu | cuda | auto
  std::int64_t devices = 1;                  // processes per machine
  std::int64_t num_nodes = 1;                // machines
  std::int64_t distributed_timeout_s = 1800;
  std::filesystem::path default_root_dir = "runs";
  std::optional<double> gradient_clip_val;   // clip the gradients' total norm to this
  std::int64_t accumulate_grad_batches = 1;  // optimizer step every N batches (and at epoch end)
  NonFiniteLoss on_nonfinite_loss = NonFiniteLoss::error;
};

// The settings a checked trainer section sets; a key it lacks (one that failed
// its check) keeps its default.
TrainerSettings trainer_settings(const PluginArgs& trainer_section);

}  // namespace minitrain
