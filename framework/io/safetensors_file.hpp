#pragma once
// safetensors files on disk (the layout: safetensors_format.hpp): written
// atomically with each tensor's bytes streamed in, and read back with every
// offset checked against the file before any data is touched.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/safetensors_format.hpp"

namespace minitrain {

// Writes `tensors` to `path`; write_tensor(i, out) appends tensor i's bytes,
// row-major, exactly as many as its shape and dtype say. Returns the file
// offset of each tensor's first byte, indexed like `tensors`.
using SafetensorsStreamer = std::function<void(std::size_t tensor, ByteSink& out)>;
std::vector<std::uint64_t> write_safetensors(const std::vector<SafetensorsTensor>& tensors,
                                             const std::map<std::string, std::string>& metadata,
                                             const std::filesystem::path& path, const SaveOptions& options,
                                             const SafetensorsStreamer& write_tensor);

// The same for tensors in memory (any device or layout: each is made a compact CPU tensor first).
std::vector<std::uint64_t> save_safetensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                            const std::map<std::string, std::string>& metadata,
                                            const std::filesystem::path& path, const SaveOptions& options = {});

struct SafetensorsEntry {
  SafetensorsTensor tensor;
  std::uint64_t offset = 0;  // of its first byte in the file
  std::uint64_t bytes = 0;
};

struct SafetensorsContents {
  std::vector<SafetensorsEntry> entries;  // in the order their data follows
  std::map<std::string, std::string> metadata;
};

// The header of `path`, checked: DataError naming the file and what is wrong
// (a length past the end, JSON that is not the format's, a dtype it does not
// define, offsets that overlap, leave gaps or do not match a shape).
SafetensorsContents read_safetensors_header(const std::filesystem::path& path);

// One tensor's data, read from the file.
at::Tensor read_safetensors_tensor(const std::filesystem::path& path, const SafetensorsEntry& entry);

}  // namespace minitrain
