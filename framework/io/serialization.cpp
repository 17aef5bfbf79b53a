#include "minitrain/io/serialization.hpp"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/csrc/jit/serialization/unpickler.h>
#include <torch/version.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>

#include "minitrain/base/error.hpp"
#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/ivalue_tree.hpp"
#include "minitrain/io/pickle_repair.hpp"
#include "minitrain/io/torch_archive.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

// A copy in which no object is referred to twice. The pickler memoizes an
// object that has other references, so without this a value's pickle would
// depend on who else holds its parts; with it, equal values pickle alike
// (an epoch file written as batches arrive has the assembled one's bytes).
c10::IValue unshared(const c10::IValue& value) {
  if (value.isTensor()) return value.toTensor().alias();
  if (value.isString()) return c10::IValue(std::string(value.toStringRef()));
  if (value.isGenericDict()) {
    const c10::impl::GenericDict dict = value.toGenericDict();
    c10::impl::GenericDict copy(dict.keyType(), dict.valueType());
    for (const auto& entry : dict) copy.insert(unshared(entry.key()), unshared(entry.value()));
    return copy;
  }
  if (value.isList()) {
    c10::impl::GenericList copy(value.toList().elementType());
    for (const c10::IValue& item : value.toListRef()) copy.push_back(unshared(item));
    return copy;
  }
  if (value.isTuple()) {
    std::vector<c10::IValue> items;
    for (const c10::IValue& item : value.toTupleRef().elements()) items.push_back(unshared(item));
    return c10::ivalue::Tuple::create(std::move(items));
  }
  return value;
}

}  // namespace

Pickled pickle_value(const c10::IValue& value) {
  Pickled out;
  torch::jit::Pickler pickler(
      [&out](const char* bytes, std::size_t size) { out.program.insert(out.program.end(), bytes, bytes + size); },
      /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
      /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(unshared(value));
  pickler.stop();
  out.storages = pickler.tensorData();
  return out;
}

void write_pickle_records(TorchArchiveWriter& archive, const std::vector<char>& program) {
  archive.write_record("data.pkl", program.data(), program.size());
  archive.write_record("version", "3\n", 2);
  archive.write_record("byteorder", "little", 6);
}

FileSum write_torch_file(const c10::IValue& value, const fs::path& path, const SaveOptions& options,
                         const StorageWriter& write_storage) {
  const fs::path temporary = temporary_path_for(path);
  try {
    const Pickled pickled = pickle_value(value);
    TorchArchiveWriter archive(temporary, {.fsync = options.fsync, .name_in_errors = path});
    for (std::size_t i = 0; i < pickled.storages.size(); ++i)
      write_storage(archive, fmt::format("data/{}", i), pickled.storages[i].storage());
    write_pickle_records(archive, pickled.program);
    archive.finish();
    commit_file(temporary, path, options);
    return {archive.size(), archive.file_crc32()};
  } catch (const c10::Error& e) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw Error(fmt::format("cannot serialize {}: {}", path.string(), e.what_without_backtrace()));
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

std::vector<std::uint64_t> save_pickled(const c10::IValue& value, const fs::path& path, const SaveOptions& options,
                                        FileSum* sum) {
  std::map<const c10::StorageImpl*, std::uint64_t> storage_offsets;
  const FileSum written =
      write_torch_file(value, path, options, [&](TorchArchiveWriter& archive, const std::string& record, const c10::Storage& storage) {
        storage_offsets[storage.unsafeGetStorageImpl()] = archive.write_record(record, storage.data(), storage.nbytes());
      });
  if (sum) *sum = written;
  std::vector<std::uint64_t> tensor_offsets;
  for_each_tensor(value, [&](const at::Tensor& t) {
    tensor_offsets.push_back(storage_offsets.at(t.storage().unsafeGetStorageImpl()) +
                             static_cast<std::uint64_t>(t.storage_offset()) * t.element_size());
  });
  return tensor_offsets;
}

// A tensor whose sizes and strides reach past its storage record would be read
// past its end: LibTorch 2.6 sizes a storage by the numel the pickle claims,
// whatever the record holds, and checks neither. torch.save never writes one.
void check_within_record(const at::Tensor& t, const std::map<const void*, std::size_t>& record_bytes) {
  const auto record = record_bytes.find(t.storage().data());
  const std::uint64_t available =
      record == record_bytes.end() ? t.storage().nbytes() : std::min<std::uint64_t>(t.storage().nbytes(), record->second);
  if (t.numel() == 0) return;
  std::uint64_t last = static_cast<std::uint64_t>(t.storage_offset());
  for (std::int64_t d = 0; d < t.dim(); ++d) {
    if (t.stride(d) < 0 || t.storage_offset() < 0) throw std::runtime_error("a tensor with a negative stride or offset");
    last += static_cast<std::uint64_t>(t.size(d) - 1) * static_cast<std::uint64_t>(t.stride(d));
  }
  const std::uint64_t needed = (last + 1) * t.element_size();
  if (needed > available)
    throw std::runtime_error(fmt::format("a tensor of {} bytes reaches past its {}-byte storage record", needed, available));
}

c10::IValue load_pickled(const fs::path& path, const RecordLoader& load_record) {
  if (!fs::is_regular_file(path)) throw DataError(fmt::format("{}: error: no such file", path.string()));
  auto unreadable = [&](std::string_view why) {
    return DataError(fmt::format("{}: error: not a readable torch.save file: {}", path.string(), why));
  };
  try {
    // What torch::jit::readArchiveAndTensors does, with the pickle program
    // checked and repaired first so that Python's one-item dicts and lists load.
    caffe2::serialize::PyTorchStreamReader reader(path.string());
    const auto [pickle, pickle_size] = reader.getRecord("data.pkl");
    const std::span original(static_cast<const char*>(pickle.get()), static_cast<std::size_t>(pickle_size));
    if (!pickles_ordered_dict(original)) {
      const std::vector<char> program = repair_pickle(original);
      std::size_t consumed = 0;
      auto read_program = [&](char* buffer, std::size_t length) -> std::size_t {
        length = std::min(length, program.size() - consumed);
        std::memcpy(buffer, program.data() + consumed, length);
        consumed += length;
        return length;
      };
      std::map<const void*, std::size_t> record_bytes;  // what each storage's record really holds
      auto read_record = [&](const std::string& name) {
        auto [data, size] = load_record ? load_record(name) : reader.getRecord("data/" + name);
        record_bytes[data.get()] = size;
        return std::move(data);
      };
      torch::jit::Unpickler unpickler(read_program, nullptr, nullptr, read_record, at::Device(at::kCPU));
      unpickler.set_version(reader.version());
      c10::IValue value = unpickler.parse_ivalue();
      for_each_tensor(value, [&](const at::Tensor& t) { check_within_record(t, record_bytes); });
      return value;
    }
  } catch (const c10::Error& e) {
    throw unreadable(e.what_without_backtrace());
  } catch (const std::exception& e) {  // repair_pickle's DataError, and the unpickler's standard exceptions
    throw unreadable(e.what());
  }
  throw DataError(fmt::format("{}: error: this file holds a collections.OrderedDict (a Python state_dict()), which "
                              "LibTorch {} cannot read\n  fix: save a plain dict in Python: "
                              "torch.save(dict(model.state_dict()), path)",
                              path.string(), TORCH_VERSION));
}

at::Tensor compact_cpu(const at::Tensor& tensor) {
  if (!tensor.defined()) return tensor;
  at::Tensor t = tensor.detach();
  if (!t.device().is_cpu()) t = t.to(at::kCPU);
  const auto bytes = static_cast<std::size_t>(t.numel()) * t.element_size();
  if (!t.is_contiguous() || t.storage_offset() != 0 || t.storage().nbytes() != bytes)
    t = t.clone(at::MemoryFormat::Contiguous);
  return t;
}

c10::IValue compact_cpu(const c10::IValue& value) {
  return map_tensors(value, [](const at::Tensor& t) { return compact_cpu(t); });
}

}  // namespace minitrain
