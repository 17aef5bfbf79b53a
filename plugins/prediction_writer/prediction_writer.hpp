#pragma once
// PredictionWriter: writes what predict_step returns to files Python reads
// with a plain torch.load — the C++ counterpart of BioNeMo's PredictionWriter.
//
// Files (BioNeMo's names), in output_dir:
//   predictions__rank_{R}__batch_{B}.pt   write_interval: batch
//   predictions__rank_{R}.pt              write_interval: epoch
// Each is a dict: the prediction's keys (a non-dict prediction is stored under
// "prediction"), plus batch_idx (int64 [1]; [num_batches] in the epoch file)
// and batch_indices (int64 [B]; [N] in the epoch file), the dataset index of
// every row. Epoch files collate batches like BioNeMo's batch_collator.
#include <filesystem>
#include <vector>

#include "minitrain/callback.hpp"
#include "minitrain/collate.hpp"
#include "minitrain/plugin.hpp"

namespace minitrain::plugins {

inline constexpr ParamSpec kPredictionWriterParams[] = {
    {"output_dir", ParamType::Path, nullptr, "directory for the .pt files; created if missing", nullptr},
    {"write_interval", ParamType::Enum, "batch", "a file per batch, one per epoch, or both", "batch|epoch|batch_and_epoch"},
    {"batch_dim_key_defaults", ParamType::StringIntMap, "{}", "epoch collation: batch dim per output key (default 0)", nullptr},
    {"seq_dim_key_defaults", ParamType::StringIntMap, "{}", "epoch collation: padded sequence dim per output key (default 1)", nullptr},
    {"overwrite", ParamType::Bool, "false", "replace prediction files already in output_dir instead of failing", nullptr},
};

inline constexpr PluginInfo kPredictionWriterInfo = {
    "prediction_writer",
    "0.1.0",
    "writes predict_step outputs as torch.load-able .pt files per batch and/or per epoch (BioNeMo layout)",
    kPredictionWriterParams,
    std::size(kPredictionWriterParams),
};

class PredictionWriter : public Callback {
 public:
  explicit PredictionWriter(const PluginArgs& args);
  void connect(Events& events) override;

 private:
  void on_setup(const Setup& event);
  void on_batch_end(const PredictBatchEnd& event);
  void on_epoch_end(const PredictEpochEnd& event);
  void on_predict_end(const PredictEnd& event);
  std::filesystem::path batch_file(std::int64_t batch_idx) const;
  std::filesystem::path epoch_file() const;

  std::filesystem::path output_dir_;
  bool write_batches_;
  bool write_epochs_;
  bool overwrite_;
  CollateOptions collate_options_;
  bool predicting_ = false;
  int rank_ = 0;
  std::int64_t files_written_ = 0;
  std::vector<c10::IValue> epoch_batches_;  // this epoch's outputs, on the CPU
  std::vector<boost::signals2::scoped_connection> connections_;
};

}  // namespace minitrain::plugins
