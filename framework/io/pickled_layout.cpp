#include "minitrain/io/pickled_layout.hpp"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <sys/mman.h>

#include <memory>
#include <new>

#include "minitrain/base/error.hpp"
#include "minitrain/io/file_ranges.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

namespace {

struct Mapping {
  void* data;
  std::size_t bytes;
};

void unmap(void* context) {
  const auto* mapping = static_cast<Mapping*>(context);
  ::munmap(mapping->data, mapping->bytes);
  delete mapping;
}

// The records' common folder: torch.save names it after the file, save_pickled "archive".
std::string archive_folder(const std::map<std::string, ZipRecord>& records, const std::filesystem::path& path) {
  for (const auto& [name, record] : records) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash) == "/data.pkl") return name.substr(0, slash + 1);
  }
  throw DataError(fmt::format("{}: error: not a readable torch.save file: no data.pkl record", path.string()));
}

}  // namespace

at::DataPtr untouched_memory(std::size_t bytes) {
  if (bytes == 0) return at::DataPtr(nullptr, at::Device(at::kCPU));
  void* data = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (data == MAP_FAILED) throw std::bad_alloc();
  return at::DataPtr(data, new Mapping{data, bytes}, &unmap, at::Device(at::kCPU));
}

at::Tensor untouched_tensor(at::IntArrayRef sizes, at::ScalarType dtype) {
  const auto bytes = static_cast<std::size_t>(c10::multiply_integers(sizes)) * c10::elementSize(dtype);
  c10::Storage storage(c10::Storage::use_byte_size_t(), bytes, untouched_memory(bytes), nullptr, false);
  return at::empty({0}, at::TensorOptions().dtype(dtype)).set_(storage, 0, sizes);
}

PickledLayout::PickledLayout(const std::filesystem::path& path) : path_(path) {
  const std::map<std::string, ZipRecord> records = read_zip_directory(path);
  const std::string folder = archive_folder(records, path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;  // for compressed records only
  value_ = load_pickled(path, [&](const std::string& name) -> std::tuple<at::DataPtr, std::size_t> {
    const auto found = records.find(folder + "data/" + name);
    if (found == records.end())
      throw DataError(fmt::format("{}: error: not a readable torch.save file: no record data/{} for a tensor", path.string(), name));
    const ZipRecord& record = found->second;
    if (!record.stored) {
      if (!reader) reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
      auto [data, size] = reader->getRecord("data/" + name);
      storages_[data.get()] = Storage{record, true};
      return {std::move(data), size};
    }
    at::DataPtr data = untouched_memory(static_cast<std::size_t>(record.size));
    storages_[data.get()] = Storage{record, false};
    return {std::move(data), static_cast<std::size_t>(record.size)};
  });
}

std::optional<std::uint64_t> PickledLayout::offset_of(const at::Tensor& tensor) const {
  const Storage& storage = storages_.at(tensor.storage().data());
  if (!storage.record.stored) return std::nullopt;
  return storage.record.data_offset + static_cast<std::uint64_t>(tensor.storage_offset()) * tensor.element_size();
}

void PickledLayout::read_data(const at::Tensor& tensor) const {
  const auto found = storages_.find(tensor.storage().data());
  if (found == storages_.end() || found->second.read) return;
  const ZipRecord& record = found->second.record;
  FileRanges(0).read(path_, record.data_offset, static_cast<std::size_t>(record.size), const_cast<void*>(tensor.storage().data()));
  found->second.read = true;
}

}  // namespace minitrain
