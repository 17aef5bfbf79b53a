#pragma once
// PredictionWriter: writes what predict_step returns to files Python reads
// with a plain torch.load — the C++ counterpart of BioNeMo's PredictionWriter.
//
// Files (BioNeMo's names, minitrain/io/prediction_files.hpp), in output_dir:
//   predictions__rank_{R}__batch_{B}.pt   write_interval: batch (in subdir_{B / files_per_subdir}/ if set)
//   predictions__rank_{R}.pt              write_interval: epoch
// (.safetensors instead with format: safetensors: the same keys, nested
// outputs flattened to "outer.inner", the IDs in a .ids.json sidecar.)
// Each is a dict: the prediction's keys (a non-dict prediction is stored under
// "prediction"), plus batch_idx (int64 [1]; [num_batches] in the epoch file),
// batch_indices (int64 [B]; [N] in the epoch file), the dataset index of
// every row, and ids (list of str), every row's sample ID. Epoch files collate
// batches like BioNeMo's batch_collator; their ids are the batches' in turn.
//
// When predict ends, rank 0 writes manifest.json (minitrain/io/prediction_manifest.hpp)
// listing every rank's files, gathered through the process group; a run that
// stopped early has none.
//
// With unpadded_keys, those outputs are stored without padding
// (minitrain/io/unpadded.hpp): flat [tokens, ...] plus "<key>_offsets".
//
// Files are serialized and written on a writer thread behind a bounded queue.
// The epoch file is written as the batches arrive, each batch's rows straight
// to their place (direct_epoch.hpp); where its first batch cannot show the
// file's layout, or a later batch does not fit it, the rest is streamed
// together at the epoch's end from the batch files (or from spill files,
// removed afterwards). Memory does not grow with the epoch either way.
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "async_writer.hpp"
#include "direct_epoch.hpp"
#include "downcast_check.hpp"
#include "earlier_run.hpp"
#include "minitrain/core/callback.hpp"
#include "minitrain/io/collate.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/prediction_manifest.hpp"
#include "epoch_assembly.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace minitrain::plugins {

// write_interval: a file per batch, one per epoch, or both.
enum class WriteInterval { batch, epoch, batch_and_epoch };

inline constexpr ParamSpec kPredictionWriterParams[] = {
    {"output_dir", ParamType::OutputDir, nullptr, "directory for the prediction files; created if missing", nullptr},
    {"format", ParamType::Enum, "pt", "pt: torch.load-able dicts (BioNeMo's); safetensors: tensors by name, IDs in a .ids.json sidecar", "pt|safetensors"},
    {"write_interval", ParamType::Enum, "batch", "a file per batch, one per epoch, or both", "batch|epoch|batch_and_epoch"},
    {"batch_dim_key_defaults", ParamType::StringIntMap, "{}", "epoch collation: batch dim per output key (default 0)", nullptr},
    {"seq_dim_key_defaults", ParamType::StringIntMap, "{}", "epoch collation: padded sequence dim per output key (default 1)", nullptr},
    {"overwrite", ParamType::Bool, "false", "replace prediction files already in output_dir instead of failing", nullptr},
    {"resume", ParamType::Bool, "false", "keep complete files of an interrupted earlier run of the same job; write only the rest", nullptr},
    {"files_per_subdir", ParamType::Int, "null", "put batch files in subdir_N folders of this many batches each", nullptr,
     at_least(1)},
    {"keys", ParamType::StringList, "null", "write only these prediction keys (null: all)", nullptr},
    {"unpadded_keys", ParamType::StringList, "null", "store these [batch, length, ...] outputs unpadded: flat [tokens, ...] plus <key>_offsets [rows + 1], lengths from the batch's attention_mask", nullptr},
    {"dtype", ParamType::Enum, "null", "cast floating-point outputs to this dtype (null: as returned)", "float32|float16|bfloat16|float64"},
    {"lossy_dtype", ParamType::Enum, "warn", "values the dtype cast turns to inf or zero: counted and warned of at the end, or an error at once", "warn|error"},
    {"fsync", ParamType::Bool, "false", "flush every file to the device before it gets its final name", nullptr},
    {"max_pending_mb", ParamType::Int, "64", "predictions waiting to be written, in MiB, before the loop waits", nullptr,
     at_least(1)},
};

inline constexpr PluginInfo kPredictionWriterInfo = {
    "prediction_writer",
    "0.2.0",
    "writes predict_step outputs per batch and/or per epoch as torch.load-able .pt files (BioNeMo layout) or safetensors",
    kPredictionWriterParams,
    std::size(kPredictionWriterParams),
};

class PredictionWriter : public Callback {
 public:
  explicit PredictionWriter(const PluginArgs& args);
  ~PredictionWriter() override;
  void connect(Events& events) override;

 private:
  void on_setup(const Setup& event);
  void on_epoch_start(const PredictEpochStart& event);
  void on_batch_end(const PredictBatchEnd& event);
  void on_epoch_end(const PredictEpochEnd& event);
  void write_assembled_epoch(const std::filesystem::path& file);
  void on_predict_end(const PredictEnd& event);
  c10::impl::GenericDict output_of(const PredictBatchEnd& event);
  void keep_existing(const std::filesystem::path& file, const PredictBatchEnd& event, std::shared_ptr<WrittenBatch> slot,
                     const ManifestFile* listed);
  bool write_directly(const c10::impl::GenericDict& output);
  void give_up_direct();
  std::shared_ptr<WrittenBatch> epoch_slot();
  std::filesystem::path spill_dir() const;
  void remove_own_files() const;
  void record(ManifestFile file);  // for the manifest; called by the writer thread
  void write_manifest_of_every_rank();
  void announce_progress(bool done) const;  // to those that record the run
  bool write_batches() const { return write_interval_ != WriteInterval::epoch; }
  bool write_epochs() const { return write_interval_ != WriteInterval::batch; }

  std::filesystem::path output_dir_;
  PredictionFormat format_;
  WriteInterval write_interval_;
  bool overwrite_;
  bool resume_;
  std::optional<std::int64_t> files_per_subdir_;
  std::optional<StringList> keys_;
  StringList unpadded_keys_;
  std::optional<at::ScalarType> dtype_;
  std::string dtype_name_;  // as the job names it
  bool lossy_dtype_is_error_;
  DowncastCheck downcasts_;
  SaveOptions save_options_;
  CollateOptions collate_options_;
  std::unique_ptr<AsyncWriter> writer_;

  const RunControl* control_ = nullptr;
  Events* events_ = nullptr;
  bool predicting_ = false;
  int rank_ = 0;
  int world_size_ = 1;
  EarlierRun earlier_;                          // with resume: what a finished earlier run's manifest vouches for
  bool epoch_done_ = false;                     // resumed with this epoch's file already complete
  const ManifestFile* kept_epoch_ = nullptr;    // and its manifest entry, if the manifest vouches for it
  std::int64_t epoch_rows_ = 0;                 // this rank's rows and batches in the epoch, as it starts
  std::int64_t epoch_batch_count_ = 0;
  std::unique_ptr<DirectEpochFile> direct_;    // the epoch file written as batches arrive
  bool direct_possible_ = true;                 // until a batch does not fit
  std::vector<std::shared_ptr<WrittenBatch>> epoch_batches_;  // filled in by the writer thread
  std::vector<std::int64_t> epoch_batch_numbers_;             // the epoch file's batch_idx
  std::vector<std::int64_t> epoch_indices_;                   // and its rows' dataset indices
  std::vector<std::int64_t> epoch_lengths_;                   // and their lengths, with unpadded_keys
  mutable std::mutex manifest_mutex_;
  std::vector<ManifestFile> manifest_files_;                  // this rank's finished files
  std::int64_t rows_recorded_ = 0;                            // their rows and bytes together
  std::uint64_t bytes_recorded_ = 0;
  std::atomic<std::int64_t> files_written_ = 0;
  std::atomic<std::int64_t> files_kept_ = 0;
};

}  // namespace minitrain::plugins
