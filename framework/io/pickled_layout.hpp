#pragma once
// A torch.save file's value with its tensors' bytes left where they are: each
// storage is backed by memory that is never touched unless asked for, so
// reading the structure of a gigabyte file costs neither reading it nor
// holding it. How collect learns what it merges before copying rows.
#include <ATen/core/ivalue.h>
#include <c10/core/Allocator.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "minitrain/io/zip_directory.hpp"

namespace minitrain {

// Zeroed memory of `bytes` that takes no resident memory until written, and a
// contiguous tensor over such memory.
at::DataPtr untouched_memory(std::size_t bytes);
at::Tensor untouched_tensor(at::IntArrayRef sizes, at::ScalarType dtype);

class PickledLayout {
 public:
  // Throws DataError as load_pickled does, or when a storage has no record.
  explicit PickledLayout(const std::filesystem::path& path);

  const c10::IValue& value() const { return value_; }
  // Where the tensor's first byte is in the file; nullopt for a compressed
  // record, whose bytes were read into memory instead.
  std::optional<std::uint64_t> offset_of(const at::Tensor& tensor) const;
  // Reads the tensor's storage from the file, so its data is the file's.
  void read_data(const at::Tensor& tensor) const;

 private:
  struct Storage {
    ZipRecord record;
    bool read = false;
  };
  std::filesystem::path path_;
  c10::IValue value_;
  mutable std::map<const void*, Storage> storages_;  // by data pointer
};

}  // namespace minitrain
