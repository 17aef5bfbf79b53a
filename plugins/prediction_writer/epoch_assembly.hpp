#pragma once
// Epoch files assembled from batch files on disk. Each batch is written (or
// spilled) as it arrives and only its shapes and file offsets stay in memory;
// at epoch end the collated file is streamed piece by piece from the batch
// files, so memory does not grow with the number of batches. The result is
// the file batch_collator would give, value for value, padding included.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "minitrain/io/collate.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

// A batch file as the assembler needs it: its structure with meta tensors
// (shapes and dtypes, no data) and where each tensor's bytes start.
struct WrittenBatch {
  std::filesystem::path file;
  c10::IValue skeleton;
  std::vector<std::uint64_t> tensor_offsets;  // for_each_tensor order
};

// For a value just written by save_prediction_file, with the offsets it returned.
WrittenBatch describe_written(const c10::IValue& value, std::filesystem::path file, std::vector<std::uint64_t> tensor_offsets);

// For a file written earlier by save_prediction_file (a resumed run); the loaded value
// is handed back through `loaded` if given. Throws DataError when the file is
// not one of ours.
WrittenBatch read_written_batch(const std::filesystem::path& file, c10::IValue* loaded = nullptr);

// Writes batch_collator(batches) to `path` (atomically) in `format`, reading
// the data from the batch files (of either format); a key in `whole` is
// written as given instead of collated from the batches. Returns the file's structure, its tensors uninitialised
// (their shapes and dtypes are the file's); the file's size and CRC-32 go to `sum` where the writer knows them (pt).
c10::IValue assemble_epoch_file(const std::vector<WrittenBatch>& batches, const CollateOptions& options,
                                const std::filesystem::path& path, PredictionFormat format = PredictionFormat::pt,
                                const SaveOptions& save_options = {}, const std::map<std::string, at::Tensor>& whole = {},
                                std::optional<FileSum>* sum = nullptr);

}  // namespace minitrain
