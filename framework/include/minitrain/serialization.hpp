#pragma once
// Files Python reads with a plain torch.load, and their reader.
// save_pickled streams through PyTorchStreamWriter with torch::jit::Pickler and
// writeArchiveAndTensors, the path Python's torch.save takes, so each tensor's
// bytes go straight to the file without a whole-file buffer in memory.
#include <ATen/core/ivalue.h>

#include <filesystem>

namespace minitrain {

// Writes `value` (tensors, dicts with string keys, lists, tuples, numbers,
// strings) to `path` atomically: a temporary file in the same directory is
// renamed over `path` only once complete. Throws Error on any I/O failure.
void save_pickled(const c10::IValue& value, const std::filesystem::path& path);

// Reads a file written by save_pickled or by Python's torch.save. Dicts come
// back as generic dicts (iterate them; do not toTypedDict).
c10::IValue load_pickled(const std::filesystem::path& path);

// A CPU, contiguous tensor that owns only its own bytes: serialization writes
// whole storages, so a small view of a big tensor is cloned first.
at::Tensor compact_cpu(const at::Tensor& tensor);

// compact_cpu applied to every tensor inside a (nested) value.
c10::IValue compact_cpu(const c10::IValue& value);

}  // namespace minitrain
