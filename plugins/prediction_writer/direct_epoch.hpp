#pragma once
// An epoch file written once. Laid out from the epoch's first batch and the
// epoch's row and batch counts, it takes each batch's rows straight to their
// place in the file's records as they arrive, with each record's CRC computed
// on the way, so nothing is read back or written again after the loop. The
// bytes are those epoch assembly writes for the same batches (batch_collator's
// result, padding included).
//
// It takes flat outputs (a dict of tensors, plus the IDs) with the batch on
// dim 0. A later batch may be narrower than the first along its sequence dim
// (its rows are zero-padded in place, as the collator pads them), not wider.
// A batch that does not fit ends it: the rows written so far then become the
// first source of the epoch assembly, so the result is the same either way.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "epoch_assembly.hpp"
#include "minitrain/io/collate.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

class TorchArchiveWriter;

class DirectEpochFile {
 public:
  // Null where `first` does not show the epoch's layout: nested or non-tensor
  // outputs, a batch dim other than 0, or a tensor that is neither one row per
  // sample nor batch_idx. The file is written under a temporary name.
  static std::unique_ptr<DirectEpochFile> start(const c10::impl::GenericDict& first, std::int64_t rows, std::int64_t batches,
                                                const CollateOptions& options, const std::filesystem::path& path,
                                                PredictionFormat format, const SaveOptions& save_options);
  ~DirectEpochFile();  // an unfinished file is removed
  DirectEpochFile(const DirectEpochFile&) = delete;
  DirectEpochFile& operator=(const DirectEpochFile&) = delete;

  // Whether `batch` has the first batch's keys, dtypes and sizes (a sequence
  // dim no wider), and room is left for its rows. If so, room is kept for
  // them: write(batch) must follow, in the order the batches were admitted.
  // The first batch is admitted by start().
  bool admit(const c10::impl::GenericDict& batch);
  // Writes the batch's rows after those written before (on any one thread).
  void write(const c10::impl::GenericDict& batch);
  // Every row and batch of the epoch written.
  bool complete() const;
  // Writes the IDs and the rest, and gives the file its final name. Returns
  // its structure, tensors uninitialised (their shapes and dtypes are the file's).
  c10::IValue finish();
  // After finish: the file's size and CRC-32, from the CRCs computed as it was written.
  const FileSum& sum() const { return sum_; }
  // The rows written so far, moved to `source` and described as one batch for
  // assemble_epoch_file; the file is no longer this object's to remove.
  WrittenBatch release_as_source(const std::filesystem::path& source);

 private:
  struct Output {
    std::string key;
    at::ScalarType dtype;
    std::vector<std::int64_t> sizes;  // in the epoch file
    bool per_batch;                   // batch_idx: one entry per batch, not per row
    std::optional<std::size_t> seq_dim;
    std::uint64_t offset = 0;         // of its first byte in the file
    std::uint64_t filled = 0;         // bytes written so far
    std::uint32_t crc = 0;            // of those bytes (safetensors: the archive keeps its records')
  };
  DirectEpochFile(std::vector<Output> outputs, bool with_ids, std::filesystem::path path, PredictionFormat format,
                  SaveOptions save_options);
  void open();
  void fill(std::size_t output, const void* data, std::size_t size);
  void write_rows(std::size_t output, const at::Tensor& tensor);
  c10::IValue structure(bool meta, bool with_rows_so_far) const;

  std::vector<Output> outputs_;
  bool with_ids_;
  std::filesystem::path path_;
  std::filesystem::path temporary_;
  PredictionFormat format_;
  SaveOptions save_options_;
  std::unique_ptr<TorchArchiveWriter> archive_;  // pt
  int fd_ = -1;                                  // safetensors
  std::string header_;                           // safetensors: the file's first bytes
  std::vector<std::size_t> data_order_;          // safetensors: the outputs in the order their data follows
  FileSum sum_;
  std::vector<std::string> ids_;
  std::int64_t rows_admitted_ = 0;  // by the thread that admits
  std::int64_t batches_admitted_ = 0;
  std::int64_t rows_written_ = 0;  // by the thread that writes
  std::int64_t batches_written_ = 0;
  std::int64_t rows_ = 0;
  std::int64_t batches_ = 0;
  bool owns_file_ = true;
};

}  // namespace minitrain
