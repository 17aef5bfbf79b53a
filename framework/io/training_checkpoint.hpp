#pragma once
// Everything a fit needs to go on exactly where it stopped, in one file that
// Python reads with torch.load as a dict:
//   {"state_dict": {name: tensor}, "optimizer": {"state": {param_index: {...}}, "lr": [per group]},
//    "epochs_done": int64 [], "global_step": int64 [], "rng_state": uint8 [N],
//    "batches_done": int64 [], "epoch_loss_sum": float64 [], "epoch_loss_batches": int64 [],
//    "callbacks": {key: state}}
// batches_done is 0 at an epoch's end; a checkpoint written in the middle of
// an epoch resumes with the batch after it (the epoch's order is a function
// of the seed and the epoch, so the same batches follow).
// The shuffle order is a function of (seed, epoch) and the lr schedule of the
// step, so with the RNG state they need nothing more. Callbacks keep their
// own state under their CallbackList key.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <filesystem>

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace minitrain {

struct TrainingProgress {
  std::int64_t epochs_done = 0;
  std::int64_t global_step = 0;
  std::int64_t batches_done = 0;  // of the epoch after epochs_done
  double epoch_loss_sum = 0.0;    // the losses of those batches, for the epoch's train_loss
  std::int64_t epoch_loss_batches = 0;  // how many of them count in it (skipped non-finite ones do not)
};

// Writes atomically (temporary name, then rename).
void save_training_checkpoint(const std::filesystem::path& path, torch::nn::Module& network,
                              torch::optim::Optimizer& optimizer, TrainingProgress progress,
                              const c10::impl::GenericDict& callback_states);

// A file as load_pickled read it, and where it came from (for messages).
struct LoadedCheckpoint {
  c10::IValue value;
  std::filesystem::path file;
};

// Whether a loaded file is a training checkpoint (rather than bare weights).
bool is_training_checkpoint(const c10::IValue& loaded);

// Restores weights, optimizer state and the CPU random generator. Throws
// DataError when it is not a training checkpoint or does not fit.
TrainingProgress restore_training_checkpoint(const LoadedCheckpoint& checkpoint, torch::nn::Module& network,
                                             torch::optim::Optimizer& optimizer);

// The checkpoint's callback states ({key: state}); None when it has none.
c10::IValue saved_callback_states(const LoadedCheckpoint& checkpoint);

}  // namespace minitrain
