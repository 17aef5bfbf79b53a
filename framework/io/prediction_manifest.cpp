#include "minitrain/io/prediction_manifest.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "minitrain/base/error.hpp"
#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/crc32.hpp"
#include "minitrain/io/ivalue_tree.hpp"
#include "minitrain/io/prediction_files.hpp"

namespace minitrain {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keys in the order of the file they describe

namespace {

std::string python_dtype(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return c10::toString(type);
  }
}

// Every tensor by its name, and the ids list (a list of str, which only .pt files hold).
void collect_tensors(const c10::IValue& value, std::vector<ManifestTensor>& out) {
  for_each_named_tensor(value, [&](const std::string& key, const at::Tensor& t) {
    out.push_back({key, t.sizes().vec(), python_dtype(t.scalar_type())});
  });
  if (!value.isGenericDict()) return;
  const auto dict = value.toGenericDict();
  const auto ids = dict.find(kIdsKey);
  if (ids != dict.end() && ids->value().isList())
    out.push_back({kIdsKey, {static_cast<std::int64_t>(ids->value().toListRef().size())}, "str"});
}

// Dataset indices as runs of a constant step: [[start, step, count], ...].
json compact(const std::vector<std::int64_t>& indices) {
  json runs = json::array();
  std::size_t i = 0;
  while (i < indices.size()) {
    std::size_t end = i + 1;
    const std::int64_t step = end < indices.size() ? indices[end] - indices[i] : 1;
    while (end < indices.size() && indices[end] - indices[end - 1] == step) ++end;
    runs.push_back({indices[i], end - i > 1 ? step : 1, end - i});
    i = end;
  }
  return runs;
}

std::vector<std::int64_t> expand(const json& runs) {
  std::vector<std::int64_t> indices;
  for (const json& run : runs) {
    const auto start = run.at(0).get<std::int64_t>();
    const auto step = run.at(1).get<std::int64_t>();
    const auto count = run.at(2).get<std::int64_t>();
    if (count < 0 || count > (std::int64_t{1} << 40)) throw std::runtime_error("a run of indices has a count out of range");
    for (std::int64_t k = 0; k < count; ++k) indices.push_back(start + k * step);
  }
  return indices;
}

json to_json(const ManifestFile& file) {
  json keys = json::object();
  for (const ManifestTensor& tensor : file.tensors) keys[tensor.key] = {{"shape", tensor.shape}, {"dtype", tensor.dtype}};
  json entry = {{"path", file.path},   {"kind", file.kind},   {"rank", file.rank},
                {"batches", file.batches}, {"rows", file.indices.size()}, {"indices", compact(file.indices)},
                {"keys", keys},        {"bytes", file.bytes}, {"crc32", fmt::format("{:08x}", file.crc32)}};
  if (file.ids_file)
    entry["ids_file"] = {{"path", file.ids_file->path}, {"bytes", file.ids_file->bytes},
                         {"crc32", fmt::format("{:08x}", file.ids_file->crc32)}};
  return entry;
}

std::uint32_t crc32_named(const json& text) {
  return static_cast<std::uint32_t>(std::stoul(text.get<std::string>(), nullptr, 16));
}

ManifestFile file_from(const json& entry) {
  ManifestFile file;
  file.path = entry.at("path").get<std::string>();
  file.kind = entry.at("kind").get<std::string>();
  file.rank = entry.at("rank").get<int>();
  file.batches = entry.at("batches").get<std::vector<std::int64_t>>();
  file.indices = expand(entry.at("indices"));
  if (file.indices.size() != entry.at("rows").get<std::size_t>())
    throw std::runtime_error(fmt::format("{}: rows does not match its indices", file.path));
  for (const auto& [key, tensor] : entry.at("keys").items())
    file.tensors.push_back({key, tensor.at("shape").get<std::vector<std::int64_t>>(), tensor.at("dtype").get<std::string>()});
  file.bytes = entry.at("bytes").get<std::uint64_t>();
  file.crc32 = crc32_named(entry.at("crc32"));
  if (entry.contains("ids_file")) {
    const json& sidecar = entry.at("ids_file");
    file.ids_file = ManifestSidecar{sidecar.at("path").get<std::string>(), sidecar.at("bytes").get<std::uint64_t>(),
                                    crc32_named(sidecar.at("crc32"))};
  }
  return file;
}

}  // namespace

std::uint32_t file_crc32(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError(fmt::format("{}: error: cannot open to checksum it: {}", file.string(), std::strerror(errno)));
  std::vector<char> buffer(4 << 20);
  std::uint32_t crc = 0;
  ssize_t n = 0;
  while ((n = ::read(fd, buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) crc = crc32_update(crc, buffer.data(), static_cast<std::size_t>(n));
  const int error = errno;
  ::close(fd);
  if (n < 0) throw DataError(fmt::format("{}: error: cannot read to checksum it: {}", file.string(), std::strerror(error)));
  return crc;
}

ManifestFile describe_prediction_file(const fs::path& output_dir, const fs::path& file, std::string kind, int rank,
                                      std::vector<std::int64_t> batches, std::vector<std::int64_t> indices,
                                      const c10::IValue& contents, const std::optional<FileSum>& sum) {
  ManifestFile described;
  described.path = file.lexically_relative(output_dir).generic_string();
  described.kind = std::move(kind);
  described.rank = rank;
  described.batches = std::move(batches);
  described.indices = std::move(indices);
  collect_tensors(contents, described.tensors);
  described.bytes = sum ? sum->bytes : fs::file_size(file);
  described.crc32 = sum ? sum->crc32 : file_crc32(file);  // read back only where the writer did not work it out
  const fs::path sidecar = ids_sidecar_of(file);
  if (file.extension() == ".safetensors" && fs::exists(sidecar))
    described.ids_file = ManifestSidecar{sidecar.lexically_relative(output_dir).generic_string(), fs::file_size(sidecar),
                                         file_crc32(sidecar)};
  return described;
}

std::string files_to_json(const std::vector<ManifestFile>& files) {
  json out = json::array();
  for (const ManifestFile& file : files) out.push_back(to_json(file));
  return out.dump();
}

std::vector<ManifestFile> files_from_json(const std::string& text) {
  std::vector<ManifestFile> files;
  for (const json& entry : json::parse(text)) files.push_back(file_from(entry));
  return files;
}

void write_manifest(const Manifest& manifest, const fs::path& output_dir) {
  std::size_t samples = 0;
  for (const ManifestFile& file : manifest.files) {
    const bool rank_has_epoch = std::any_of(manifest.files.begin(), manifest.files.end(), [&](const ManifestFile& f) {
      return f.kind == "epoch" && f.rank == file.rank;
    });
    if (file.kind == "epoch" || !rank_has_epoch) samples += file.indices.size();
  }
  const json header = {
      {"format", "minitrain-predictions"},
      {"format_version", kManifestFormatVersion},
      {"complete", true},
      {"minitrain_version", manifest.minitrain_version},
      {"job_sha256", manifest.job_sha256},
      {"model", {{"name", manifest.model}, {"weights_file", manifest.weights_file}, {"weights_sha256", manifest.weights_sha256}}},
      {"world_size", manifest.world_size},
      {"samples", samples},
  };
  // The header indented, each file on a line of its own: readable, and a line per file to grep.
  std::string text = header.dump(1);
  text.erase(text.rfind('\n'));  // the closing brace and the line break before it
  text += ",\n \"files\": [";
  for (std::size_t i = 0; i < manifest.files.size(); ++i) text += (i ? ",\n  " : "\n  ") + to_json(manifest.files[i]).dump();
  text += "\n ]\n}\n";
  write_file_atomically(output_dir / kManifestName, text);
}

std::optional<Manifest> read_manifest(const fs::path& output_dir) {
  const fs::path path = output_dir / kManifestName;
  if (!fs::exists(path)) return std::nullopt;
  std::ifstream in(path);
  try {
    const json document = json::parse(in);
    if (document.at("format").get<std::string>() != "minitrain-predictions" ||
        document.at("format_version").get<int>() > kManifestFormatVersion)
      throw DataError(fmt::format("{}: error: not a minitrain prediction manifest of format version {} or older; a newer "
                                  "minitrain wrote it",
                                  path.string(), kManifestFormatVersion));
    Manifest manifest;
    manifest.minitrain_version = document.at("minitrain_version").get<std::string>();
    manifest.job_sha256 = document.at("job_sha256").get<std::string>();
    manifest.model = document.at("model").at("name").get<std::string>();
    manifest.weights_file = document.at("model").at("weights_file").get<std::string>();
    manifest.weights_sha256 = document.at("model").at("weights_sha256").get<std::string>();
    manifest.world_size = document.at("world_size").get<int>();
    for (const json& entry : document.at("files")) manifest.files.push_back(file_from(entry));
    return manifest;
  } catch (const DataError&) {
    throw;
  } catch (const std::exception& e) {  // nlohmann's parse and type errors, and the checks above
    throw DataError(fmt::format("{}: error: not a readable manifest: {}\n  fix: remove it and write the predictions again",
                                path.string(), e.what()));
  }
}

}  // namespace minitrain
