#pragma once
// The prediction files' names and reserved keys: a contract with Python users
// (BioNeMo's names) shared by the writer, its resume and `collect`.
//   predictions__rank_{R}__batch_{B}.pt   one batch, in output_dir or in subdir_{B / files_per_subdir}/
//   predictions__rank_{R}.pt              one epoch, in output_dir
// or the same names ending in .safetensors, each with its rows' IDs in a
// sidecar (predictions__rank_{R}.ids.json: a JSON list of str), as the format
// holds no strings. A name ending in .tmpN is a file still being written.
// Each file is a dict of the prediction's keys plus the three the writer
// reserves (below).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace minitrain {

inline constexpr const char* kBatchIdxKey = "batch_idx";          // int64 [1]; [num_batches] in an epoch file
inline constexpr const char* kBatchIndicesKey = "batch_indices";  // int64 [rows]: the dataset index of every row
inline constexpr const char* kIdsKey = "ids";                      // list of str [rows]: the sample ID of every row

enum class PredictionFormat { pt, safetensors };
const char* extension_of(PredictionFormat format);  // ".pt", ".safetensors"

// What a prediction file's name says.
struct PredictionFileName {
  int rank = 0;
  PredictionFormat format = PredictionFormat::pt;
  std::optional<std::int64_t> batch_idx;  // none: an epoch file
  bool temporary = false;                 // .tmpN: not finished
};

std::filesystem::path batch_file(const std::filesystem::path& dir, int rank, std::int64_t batch_idx,
                                 std::optional<std::int64_t> files_per_subdir,
                                 PredictionFormat format = PredictionFormat::pt);
std::filesystem::path epoch_file(const std::filesystem::path& dir, int rank, PredictionFormat format = PredictionFormat::pt);

// The IDs sidecar of a .safetensors prediction file: the same name ending in .ids.json.
std::filesystem::path ids_sidecar_of(const std::filesystem::path& prediction_file);

// nullopt for a name that is not a prediction file's (or a rank or batch too large to be one).
std::optional<PredictionFileName> parse_prediction_file_name(const std::string& filename);

// Every prediction file in `dir` and its subdir_N folders (not deeper), sorted by path.
std::vector<std::pair<std::filesystem::path, PredictionFileName>> prediction_files_in(const std::filesystem::path& dir);

}  // namespace minitrain
