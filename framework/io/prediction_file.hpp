#pragma once
// One prediction file of either format (prediction_files.hpp), written and
// read as a dict: the prediction's tensors, batch_idx, batch_indices and ids.
// In a .pt file the dict is pickled as it is; a .safetensors file holds its
// tensors by name (nesting flattened to "outer.inner", see
// flat_prediction_tensors) and its IDs in the sidecar, written first.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/prediction_files.hpp"

namespace minitrain {

// The dict a .safetensors file can hold: every tensor under its
// for_each_named_tensor name; `ids` kept as it is. Error naming the value
// when the prediction holds something other than tensors (a str, a number).
c10::impl::GenericDict flat_prediction_tensors(const c10::impl::GenericDict& dict);

// Writes `dict` atomically in `format`; returns the file offset of each
// tensor's first byte, in for_each_tensor order (the order the loaded dict has too).
// Where the format's writer knows the file's size and CRC-32 (pt), they go to `sum`.
std::vector<std::uint64_t> save_prediction_file(const c10::impl::GenericDict& dict, const std::filesystem::path& path,
                                                PredictionFormat format, const SaveOptions& options = {},
                                                std::optional<FileSum>* sum = nullptr);

// The __metadata__ of a .safetensors prediction file: {"format": "pt"}, and,
// when `ids` is given, "ids_file" naming its IDs sidecar, which this writes
// first (atomically). Every writer of such files (batch, epoch, collect) uses it.
// prediction_metadata is the same without writing the sidecar.
std::map<std::string, std::string> prediction_metadata(const std::filesystem::path& path, bool with_ids);
std::map<std::string, std::string> write_ids_sidecar(const std::filesystem::path& path,
                                                     const std::vector<std::string>* ids, const SaveOptions& options = {});

// Reads a file of either format (told by its name), with the offsets of its
// tensors if asked. DataError naming the file when it is not a prediction file
// (a dict with batch_indices) or its IDs do not match its rows.
c10::impl::GenericDict load_prediction_file(const std::filesystem::path& path,
                                            std::vector<std::uint64_t>* tensor_offsets = nullptr);

// The same file's structure, checked the same way, without reading its data:
// only batch_indices, the tensors under the keys `needs_data` names and those
// not stored in row-major order hold the file's bytes; the others hold memory
// never touched (pickled_layout.hpp),
// so a file of any size costs little to look at. tensor_offsets: each tensor's
// first byte in the file, in for_each_tensor order; nullopt where the file
// compresses it, in which case its data was read.
struct PredictionLayout {
  c10::impl::GenericDict dict;
  std::vector<std::optional<std::uint64_t>> tensor_offsets;
};
PredictionLayout load_prediction_layout(const std::filesystem::path& path,
                                        const std::function<bool(const std::string& key)>& needs_data);

}  // namespace minitrain
