#include "minitrain/io/safetensors_file.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "minitrain/base/error.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit

// Counts what a streamer appends, so that a wrong count is an error and not a corrupt file.
class CountingSink : public ByteSink {
 public:
  explicit CountingSink(ByteSink& out) : out_(out) {}
  void append(const void* data, std::size_t size) override {
    out_.append(data, size);
    count_ += size;
  }
  std::uint64_t count() const { return count_; }

 private:
  ByteSink& out_;
  std::uint64_t count_ = 0;
};

// UINT64_MAX when the product overflows, which no file can hold.
std::uint64_t bytes_of(const SafetensorsTensor& tensor) {
  std::uint64_t n = c10::elementSize(tensor.dtype);
  for (const std::int64_t d : tensor.shape)
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) return UINT64_MAX;
  return n;
}

}  // namespace

std::vector<std::uint64_t> write_safetensors(const std::vector<SafetensorsTensor>& tensors,
                                             const std::map<std::string, std::string>& metadata, const fs::path& path,
                                             const SaveOptions& options, const SafetensorsStreamer& write_tensor) {
  const SafetensorsLayout layout = plan_safetensors(tensors, metadata);
  AtomicFile file(path, options);
  file.append(layout.header.data(), layout.header.size());
  std::vector<std::uint64_t> offsets(tensors.size());
  for (const std::size_t i : layout.order) {
    offsets[i] = file.size();
    CountingSink counted(file);
    write_tensor(i, counted);
    if (counted.count() != bytes_of(tensors[i]))
      throw Error(fmt::format("{}: '{}' was given {} bytes, not the {} its shape holds", path.string(), tensors[i].name,
                              counted.count(), bytes_of(tensors[i])));
  }
  file.commit();
  return offsets;
}

std::vector<std::uint64_t> save_safetensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                            const std::map<std::string, std::string>& metadata, const fs::path& path,
                                            const SaveOptions& options) {
  std::vector<SafetensorsTensor> described;
  std::vector<at::Tensor> compact;
  for (const auto& [name, tensor] : tensors) {
    compact.push_back(compact_cpu(tensor));
    described.push_back({name, tensor.scalar_type(), tensor.sizes().vec()});
  }
  return write_safetensors(described, metadata, path, options, [&](std::size_t i, ByteSink& out) {
    out.append(compact[i].data_ptr(), compact[i].nbytes());
  });
}

SafetensorsContents read_safetensors_header(const fs::path& path) {
  auto malformed = [&](const std::string& why) {
    return DataError(fmt::format("{}: error: not a safetensors file: {}", path.string(), why));
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: error: no such file", path.string()));
  std::error_code ec;
  const std::uint64_t file_bytes = fs::file_size(path, ec);
  unsigned char length_bytes[8] = {};
  if (ec || file_bytes < 8 || !in.read(reinterpret_cast<char*>(length_bytes), 8)) throw malformed("shorter than 8 bytes");
  std::uint64_t header_bytes = 0;
  for (int b = 7; b >= 0; --b) header_bytes = (header_bytes << 8) | length_bytes[b];
  if (header_bytes > kMaxHeaderBytes || header_bytes > file_bytes - 8)
    throw malformed(fmt::format("its header length {} runs past the file's {} bytes (or the 100 MB limit)", header_bytes, file_bytes));
  std::string text(header_bytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_bytes));
  const std::uint64_t data_start = 8 + header_bytes;
  SafetensorsContents contents;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw malformed(fmt::format("its header is not JSON: {}", e.what()));
  }
  if (!header.is_object()) throw malformed("its header is not a JSON object");
  try {
    for (const auto& [name, value] : header.items()) {
      if (name == "__metadata__") {
        for (const auto& [key, text_value] : value.items()) {
          if (!text_value.is_string()) throw malformed(fmt::format("__metadata__ '{}' is not a string", key));
          contents.metadata[key] = text_value.get<std::string>();
        }
        continue;
      }
      const auto dtype = dtype_of_safetensors(value.at("dtype").get<std::string>());
      if (!dtype) throw malformed(fmt::format("'{}' has the dtype '{}', which the format does not define", name, value.at("dtype").get<std::string>()));
      SafetensorsEntry entry{{name, *dtype, value.at("shape").get<std::vector<std::int64_t>>()}, 0, 0};
      const auto offsets = value.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1]) throw malformed(fmt::format("'{}' has data_offsets that are not [begin, end]", name));
      for (const std::int64_t d : entry.tensor.shape)
        if (d < 0) throw malformed(fmt::format("'{}' has the dimension {}", name, d));
      entry.offset = data_start + offsets[0];
      entry.bytes = offsets[1] - offsets[0];
      if (entry.bytes != bytes_of(entry.tensor))
        throw malformed(fmt::format("'{}' spans {} bytes, but its shape and dtype need {}", name, entry.bytes, bytes_of(entry.tensor)));
      contents.entries.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    throw malformed(fmt::format("its header is not the format's: {}", e.what()));
  }
  std::sort(contents.entries.begin(), contents.entries.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) { return a.offset < b.offset; });
  std::uint64_t next = data_start;
  for (const SafetensorsEntry& entry : contents.entries) {
    if (entry.offset != next) throw malformed(fmt::format("'{}' does not start where the tensor before it ends", entry.tensor.name));
    next += entry.bytes;
  }
  if (next != file_bytes) throw malformed(fmt::format("its tensors end at byte {}, but the file has {}", next, file_bytes));
  return contents;
}

at::Tensor read_safetensors_tensor(const fs::path& path, const SafetensorsEntry& entry) {
  at::Tensor tensor = at::empty(entry.tensor.shape, at::TensorOptions().dtype(entry.tensor.dtype));
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(entry.offset));
  if (!in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(entry.bytes)))
    throw DataError(fmt::format("{}: error: cannot read '{}' (the file is shorter than its header says)", path.string(),
                                entry.tensor.name));
  return tensor;
}

}  // namespace minitrain
