#pragma once
// Files Python reads with a plain torch.load, and their reader.
// save_pickled pickles with torch::jit::Pickler, as torch.save does, and
// writes the archive with TorchArchiveWriter: each tensor's bytes go to the
// file straight from the tensor, without a whole-file buffer in memory.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "minitrain/io/atomic_file.hpp"

namespace minitrain {

// A value as torch.save pickles it: the pickle program, and one tensor per
// storage it refers to, in record order (archive/data/0, data/1, ...).
struct Pickled {
  std::vector<char> program;
  std::vector<at::Tensor> storages;
};
Pickled pickle_value(const c10::IValue& value);

// Writes `value` (tensors, dicts with string keys, lists, tuples, numbers,
// strings) to `path` atomically: a temporary file in the same directory is
// renamed over `path` only once complete. Returns the file offset of the
// first byte of each tensor, in for_each_tensor order. Throws Error on any I/O
// failure, leaving nothing behind. The file's size and CRC-32 go to `sum` if given.
std::vector<std::uint64_t> save_pickled(const c10::IValue& value, const std::filesystem::path& path,
                                        const SaveOptions& options = {}, FileSum* sum = nullptr);

class TorchArchiveWriter;

// The records that follow the storages: the pickle program, version and byte order.
void write_pickle_records(TorchArchiveWriter& archive, const std::vector<char>& program);

// Writes `value` as a torch.save file, atomically: one record per storage,
// each written by `write_storage(archive, record_name, storage)`, then the
// pickle program, the version and byte-order records (the order an epoch
// file written as its batches arrive must have: its IDs, in the pickle, are
// known last; torch.load finds records by name); all under a temporary
// name in the same directory, renamed to `path` once complete and removed on
// any failure. save_pickled and epoch assembly differ only in `write_storage`.
// Returns the file's size and CRC-32.
using StorageWriter = std::function<void(TorchArchiveWriter&, const std::string&, const c10::Storage&)>;
FileSum write_torch_file(const c10::IValue& value, const std::filesystem::path& path, const SaveOptions& options,
                         const StorageWriter& write_storage);

// Reads a file written by save_pickled or by Python's torch.save. Dicts come
// back as generic dicts (iterate them; do not toTypedDict). `load_record`, if
// given, supplies each storage's bytes and their count in place of reading
// the record (named as the pickle names it: "0", "1", ...).
using RecordLoader = std::function<std::tuple<at::DataPtr, std::size_t>(const std::string& record)>;
c10::IValue load_pickled(const std::filesystem::path& path, const RecordLoader& load_record = {});

// A CPU, contiguous tensor that owns only its own bytes: serialization writes
// whole storages, so a small view of a big tensor is cloned first.
at::Tensor compact_cpu(const at::Tensor& tensor);

// compact_cpu applied to every tensor inside a (nested) value.
c10::IValue compact_cpu(const c10::IValue& value);

}  // namespace minitrain
