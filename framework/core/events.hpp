#pragma once
// One Boost.Signals2 signal per moment of a run, each with a small payload
// struct passed by const reference. Batch payloads carry the dataset index of
// every sample (batch_indices), so nothing needs to retain predictions to map
// them back. Emitted per batch, never per sample.
#include <ATen/core/ivalue.h>
#include <boost/signals2/signal.hpp>

#include <cstdint>
#include <exception>
#include <span>
#include <string>

#include "minitrain/data/data.hpp"
#include "minitrain/models/metrics.hpp"
#include "minitrain/core/run_control.hpp"

namespace minitrain {

enum class Stage { fit, validate, predict };
const char* to_string(Stage stage);

struct Setup {
  Stage stage;
  int global_rank;
  int world_size;
  std::string default_root_dir;  // trainer.default_root_dir: where a callback's files go unless it is told
};
struct Teardown {
  Stage stage;
};

struct FitStart {
  std::int64_t max_epochs;
};
struct FitEnd {
  std::int64_t epochs_run;
  std::int64_t global_step;
};

struct TrainEpochStart {
  std::int64_t epoch;
  std::int64_t num_batches;  // this epoch's, on this rank
};
// After the epoch's validation, as in Lightning, so `metrics` holds both:
// train_loss and, when validation ran this epoch, val_loss, val_accuracy, ...
struct TrainEpochEnd {
  std::int64_t epoch;
  double mean_loss;  // over the epoch's batches
  const MetricValues& metrics;
  std::int64_t global_step;  // optimizer steps taken so far
};
struct TrainBatchStart {
  std::int64_t epoch;
  std::int64_t batch_idx;
  std::int64_t dataloader_idx;
  std::span<const std::int64_t> batch_indices;
  const Batch& batch;
};
struct TrainBatchEnd {
  std::int64_t epoch;
  std::int64_t batch_idx;
  std::int64_t dataloader_idx;
  std::int64_t global_step;  // optimizer steps taken so far, this one included
  std::span<const std::int64_t> batch_indices;
  const Batch& batch;
  const at::Tensor& loss;  // detached
  double lr;               // the learning rate this step used (the first parameter group's)
};

// Validation runs at the end of a training epoch (every check_val_every_n_epoch)
// and on its own in `minitrain validate`; `epoch` is the training epoch.
struct ValidationStart {};
struct ValidationEnd {
  const MetricValues& metrics;
};
struct ValidationEpochStart {
  std::int64_t epoch;
  std::int64_t num_batches;
};
struct ValidationEpochEnd {
  std::int64_t epoch;
  std::int64_t num_batches;
  const MetricValues& metrics;  // val_loss and whatever else the model reports, over the whole epoch
};
struct ValidationBatchStart {
  std::int64_t epoch;
  std::int64_t batch_idx;
  std::int64_t dataloader_idx;
  std::span<const std::int64_t> batch_indices;
  const Batch& batch;
};
struct ValidationBatchEnd {
  std::int64_t epoch;
  std::int64_t batch_idx;
  std::int64_t dataloader_idx;
  std::span<const std::int64_t> batch_indices;
  const Batch& batch;
  const StepMetrics& metrics;  // what validation_step reported for this batch
};

struct PredictStart {};
struct PredictEnd {
  std::int64_t num_batches;
};
struct PredictEpochStart {
  std::int64_t epoch;
  std::int64_t num_batches;
  std::int64_t samples = 0;  // rows this rank predicts in the epoch: its batches' batch_indices together
};
struct PredictEpochEnd {
  std::int64_t epoch;
  std::int64_t num_batches;
};
struct PredictBatchStart {
  std::int64_t batch_idx;
  std::int64_t dataloader_idx;
  std::span<const std::int64_t> batch_indices;
  const Batch& batch;
};
struct PredictBatchEnd {
  std::int64_t batch_idx;
  std::int64_t dataloader_idx;
  std::span<const std::int64_t> batch_indices;
  const Batch& batch;
  const c10::IValue& prediction;  // what predict_step returned
};

// What a callback decided or did, announced by that callback (through the Events
// it connected to) for those that record a run, such as a report. Emitted on
// every rank, on the loop's thread.
struct CheckpointSaved {
  std::int64_t epoch;
  std::int64_t global_step;
  std::string path;
  std::string monitor;  // the metric that ranks checkpoints; empty: none
  double score;         // its value (NaN without a monitor)
  std::string best_path;  // the best checkpoint kept so far
};
struct EarlyStoppingCheck {
  std::int64_t epoch;
  std::string monitor;
  double value;
  double best;  // the best value so far, this one included
  std::int64_t wait;  // checks without improvement
  std::int64_t patience;
  std::string stop_reason;  // empty: the fit goes on
};
// A prediction writer's progress, after each batch it takes and once when
// everything is written (done).
struct WriterProgress {
  std::string output_dir;
  std::int64_t files;  // complete files so far
  std::int64_t rows;   // rows in complete files (batch files' when there are both kinds)
  std::int64_t bytes;  // bytes in complete files
  double waited_s;     // time the loop waited for the writer (a full queue, the final flush)
  bool done;
};

// Fired when a loop or a callback throws, before the exception propagates.
struct ExceptionEvent {
  Stage stage;
  std::exception_ptr error;
  std::string message;
};

template <class Payload>
using Signal = boost::signals2::signal<void(const Payload&)>;

struct Events {
  Signal<Setup> setup;
  Signal<Teardown> teardown;
  Signal<FitStart> fit_start;
  Signal<FitEnd> fit_end;
  Signal<TrainEpochStart> train_epoch_start;
  Signal<TrainEpochEnd> train_epoch_end;
  Signal<TrainBatchStart> train_batch_start;
  Signal<TrainBatchEnd> train_batch_end;
  Signal<ValidationStart> validation_start;
  Signal<ValidationEnd> validation_end;
  Signal<ValidationEpochStart> validation_epoch_start;
  Signal<ValidationEpochEnd> validation_epoch_end;
  Signal<ValidationBatchStart> validation_batch_start;
  Signal<ValidationBatchEnd> validation_batch_end;
  Signal<PredictStart> predict_start;
  Signal<PredictEnd> predict_end;
  Signal<PredictEpochStart> predict_epoch_start;
  Signal<PredictEpochEnd> predict_epoch_end;
  Signal<PredictBatchStart> predict_batch_start;
  Signal<PredictBatchEnd> predict_batch_end;
  Signal<ExceptionEvent> exception;
  Signal<CheckpointSaved> checkpoint_saved;
  Signal<EarlyStoppingCheck> early_stopping_check;
  Signal<WriterProgress> writer_progress;
  RunControl control;  // what callbacks may ask of the run (stop, save a checkpoint)
};

namespace detail {
// FNV-1a over the sizes and alignments of the types, in order.
template <class... Types>
constexpr std::uint64_t layout_fingerprint() {
  std::uint64_t hash = 14695981039346656037ull;
  for (const std::uint64_t value : {std::uint64_t{sizeof(Types)}..., std::uint64_t{alignof(Types)}...}) {
    hash ^= value;
    hash *= 1099511628211ull;
  }
  return hash;
}
}  // namespace detail

// The shape of Events and of every payload, as a plugin saw them when it was
// built; the plugin handshake compares it with the host's.
inline constexpr std::uint64_t kEventsLayout = detail::layout_fingerprint<
    Events, RunControl, Setup, Teardown, FitStart, FitEnd, TrainEpochStart, TrainEpochEnd, TrainBatchStart, TrainBatchEnd,
    ValidationStart, ValidationEnd, ValidationEpochStart, ValidationEpochEnd, ValidationBatchStart, ValidationBatchEnd,
    PredictStart, PredictEnd, PredictEpochStart, PredictEpochEnd, PredictBatchStart, PredictBatchEnd, ExceptionEvent,
    CheckpointSaved, EarlyStoppingCheck, WriterProgress>();

}  // namespace minitrain
