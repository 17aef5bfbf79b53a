#include "minitrain/serialization.hpp"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/import_read.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "minitrain/error.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

// A FILE* that remembers its first error instead of throwing from inside
// PyTorchStreamWriter (whose destructor writes too, and must not throw).
class CheckedFile {
 public:
  explicit CheckedFile(const fs::path& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (!file_) throw Error(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  ~CheckedFile() {
    if (file_) std::fclose(file_);
  }
  std::size_t write(const void* data, std::size_t size) {
    if (error_ == 0 && std::fwrite(data, 1, size, file_) != size) error_ = errno ? errno : EIO;
    return size;
  }
  // Flushes and closes; throws the first error seen.
  void close() {
    if (error_ == 0 && std::fflush(file_) != 0) error_ = errno;
    if (std::fclose(file_) != 0 && error_ == 0) error_ = errno;
    file_ = nullptr;
    if (error_ != 0) throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(error_)));
  }

 private:
  fs::path path_;
  std::FILE* file_;
  int error_ = 0;
};

}  // namespace

void save_pickled(const c10::IValue& value, const fs::path& path) {
  fs::path temporary = path;
  temporary += fmt::format(".tmp{}", ::getpid());
  try {
    // The pickle holds only structure and storage keys; tensor bytes are
    // written after it, one record per storage, straight from the tensor.
    std::vector<char> pickle;
    torch::jit::Pickler pickler([&](const char* bytes, std::size_t size) { pickle.insert(pickle.end(), bytes, bytes + size); },
                                /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
                                /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
    pickler.protocol();
    pickler.pushIValue(value);
    pickler.stop();
    CheckedFile file(temporary);
    {
      caffe2::serialize::PyTorchStreamWriter writer(
          [&file](const void* data, std::size_t size) { return file.write(data, size); });
      torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
      writer.writeEndOfFile();
    }
    file.close();
    fs::rename(temporary, path);
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

c10::IValue load_pickled(const fs::path& path) {
  if (!fs::is_regular_file(path)) throw DataError(fmt::format("{}: error: no such file", path.string()));
  try {
    caffe2::serialize::PyTorchStreamReader reader(path.string());
    return torch::jit::readArchiveAndTensors("data", "", "", c10::nullopt, c10::nullopt, at::Device(at::kCPU), reader);
  } catch (const c10::Error& e) {
    throw DataError(fmt::format("{}: error: not a readable torch.save file: {}", path.string(), e.what_without_backtrace()));
  }
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
  if (value.isTensor()) return compact_cpu(value.toTensor());
  if (value.isGenericDict()) {
    const auto in = value.toGenericDict();
    c10::impl::GenericDict out(in.keyType(), in.valueType());
    for (const auto& entry : in) out.insert(entry.key(), compact_cpu(entry.value()));
    return out;
  }
  if (value.isList()) {
    const auto in = value.toList();
    c10::impl::GenericList out(in.elementType());
    for (const c10::IValue item : in) out.push_back(compact_cpu(item));
    return out;
  }
  if (value.isTuple()) {
    std::vector<c10::IValue> items;
    for (const auto& item : value.toTupleRef().elements()) items.push_back(compact_cpu(item));
    return c10::ivalue::Tuple::create(std::move(items));
  }
  return value;
}

}  // namespace minitrain
