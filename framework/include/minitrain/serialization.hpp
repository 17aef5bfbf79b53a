#pragma once
// Files Python reads with a plain torch.load, and their reader.
// save_pickled pickles with torch::jit::Pickler, as torch.save does, and
// writes the archive with TorchArchiveWriter: each tensor's bytes go to the
// file straight from the tensor, without a whole-file buffer in memory.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace minitrain {

// A value as torch.save pickles it: the pickle program, and one tensor per
// storage it refers to, in record order (archive/data/0, data/1, ...).
struct Pickled {
  std::vector<char> program;
  std::vector<at::Tensor> storages;
};
Pickled pickle_value(const c10::IValue& value);

struct SaveOptions {
  bool fsync = false;  // flush to the device before the rename (and the directory after it)
};

// Writes `value` (tensors, dicts with string keys, lists, tuples, numbers,
// strings) to `path` atomically: a temporary file in the same directory is
// renamed over `path` only once complete. Returns the file offset of the
// first byte of each tensor, in for_each_tensor order. Throws Error on any I/O
// failure, leaving nothing behind.
std::vector<std::uint64_t> save_pickled(const c10::IValue& value, const std::filesystem::path& path,
                                        const SaveOptions& options = {});

// The temporary name save_pickled writes through before renaming to `path`.
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

// Renames a finished temporary file over `path` (and fsyncs the directory if asked).
void commit_file(const std::filesystem::path& temporary, const std::filesystem::path& path, const SaveOptions& options);

// Reads a file written by save_pickled or by Python's torch.save. Dicts come
// back as generic dicts (iterate them; do not toTypedDict).
c10::IValue load_pickled(const std::filesystem::path& path);

// A CPU, contiguous tensor that owns only its own bytes: serialization writes
// whole storages, so a small view of a big tensor is cloned first.
at::Tensor compact_cpu(const at::Tensor& tensor);

// compact_cpu applied to every tensor inside a (nested) value.
c10::IValue compact_cpu(const c10::IValue& value);

}  // namespace minitrain
