#pragma once
// Rows of tensors stored in files, copied straight into place in a larger,
// zero-padded tensor: how collect fills its output without loading the
// tensors it merges.
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "minitrain/io/file_ranges.hpp"

namespace minitrain {

// A C-contiguous tensor's bytes in a file, or (for a tensor stored with other
// strides, which cannot be copied byte for byte) a contiguous copy in memory.
struct StoredTensor {
  std::filesystem::path file;
  std::uint64_t offset = 0;  // of its first byte in `file`
  std::vector<std::int64_t> sizes;
  std::size_t element_size = 0;
  at::Tensor in_memory;  // defined when the bytes are taken from here instead
};

// Copies rows [first, first + count) along dim 0 of `stored` to `out`, laid
// out as `count` rows of `padded_row` (the stored row's dims, each as large or
// larger). Only the stored elements are written: padding must be zero already.
void copy_padded_rows(FileRanges& files, const StoredTensor& stored, std::int64_t first, std::int64_t count,
                      const std::vector<std::int64_t>& padded_row, char* out);

// Where output row i's units (rows, or the tokens of an unpadded output) are:
// units [first, first + count) of the stored tensor of input `file`.
struct RowPlace {
  std::size_t file = 0;
  std::int64_t first = 0;
  std::int64_t count = 0;
};

// Hands `emit` the tensor [units, padded_row...] made of each output row's
// units in turn, about 1 MiB at a time (a larger row whole); rows that follow
// each other in one file are read in one piece. `stored_by_file[f]` is input
// f's tensor; padding is zeros.
void emit_stored_rows(FileRanges& files, const std::vector<const StoredTensor*>& stored_by_file, std::int64_t rows,
                      const std::function<RowPlace(std::int64_t row)>& place_of, at::ScalarType dtype,
                      const std::vector<std::int64_t>& padded_row, const std::function<void(const at::Tensor&)>& emit);

}  // namespace minitrain
