#pragma once
// `minitrain collect`: every rank's prediction files in one file, in dataset
// order. Each rank's epoch file is used when it has one, else its batch files;
// every dataset index must appear exactly once, or a DataError names the gaps
// and the duplicates with the files they came from.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace minitrain {

struct CollectSummary {
  std::int64_t samples = 0;
  std::int64_t files = 0;
  int ranks = 0;
};

// pt: a torch.save dict; safetensors: the tensors by name (nesting flattened
// to "outer.inner") and the IDs in a .ids.json sidecar; hdf5 and h5ad:
// hdf5_export.hpp.
enum class CollectFormat { pt, safetensors, hdf5, h5ad };
std::optional<CollectFormat> collect_format_named(const std::string& name);
CollectFormat collect_format_for(const std::filesystem::path& output);  // by extension: .safetensors, .h5/.hdf5, .h5ad, else pt

struct CollectOptions {
  CollectFormat format = CollectFormat::pt;
  std::optional<std::string> x_key;  // h5ad: the output for .X
};

// Writes {key: tensor [N, ...], "batch_indices": arange(N), "ids": [N str]} to `output`
// atomically, in `options.format`. Tensors are concatenated along dim 0 (sequence dims padded with
// zeros, as epoch collation does) and rows put in batch_indices order. The
// files' structure is read without their data (load_prediction_layout); then
// each output tensor's rows are copied from where the files store them,
// straight into place (stored_rows.hpp), so memory holds a block of rows, not
// a tensor, and the bytes cross once, as a plain copy of the files would.
CollectSummary collect_predictions(const std::filesystem::path& input_dir, const std::filesystem::path& output,
                                   const CollectOptions& options = {});

}  // namespace minitrain
