#pragma once
// manifest.json, the record of a finished predict run in its output_dir: which
// job and model made it, and every file with its rank, batches, rows, the
// dataset indices it holds, its tensors (shape and dtype), its size and its
// CRC-32. It is written last, atomically, once every rank has finished, so
// its presence means the output is complete; `collect` reads it.
//   {"format": "minitrain-predictions", "format_version": 1, "complete": true,
//    "minitrain_version": ..., "job_sha256": ..., "model": {...}, "world_size": 2,
//    "samples": 45, "files": [{"path": "predictions__rank_0__batch_0.pt", "kind": "batch",
//    "rank": 0, "batches": [0], "rows": 8, "indices": [[0, 2, 8]], "keys": {"embeddings":
//    {"shape": [8, 64], "dtype": "float32"}, ...}, "bytes": 40413, "crc32": "9a0c3e5f"}, ...]}
// A .safetensors file's entry also names its IDs sidecar: "ids_file": {"path": ...,
// "bytes": ..., "crc32": ...}.
// "indices" are runs [start, step, count]: [[0, 2, 8]] is 0, 2, ..., 14.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "minitrain/io/atomic_file.hpp"

namespace minitrain {

inline constexpr const char* kManifestName = "manifest.json";
inline constexpr int kManifestFormatVersion = 1;

struct ManifestTensor {
  std::string key;  // "embeddings", "nested.score", "pair.0"
  std::vector<std::int64_t> shape;
  std::string dtype;  // Python's name: "float32", "int64", "str" for the ids list
};

struct ManifestSidecar {
  std::string path;  // relative to output_dir, with '/'
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
};

struct ManifestFile {
  std::string path;  // relative to output_dir, with '/'
  std::string kind;  // "batch" or "epoch"
  int rank = 0;
  std::vector<std::int64_t> batches;
  std::vector<std::int64_t> indices;  // the dataset index of every row, in row order
  std::vector<ManifestTensor> tensors;
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
  std::optional<ManifestSidecar> ids_file;
};

struct Manifest {
  std::string minitrain_version;
  std::string job_sha256;
  std::string model;
  std::string weights_file;
  std::string weights_sha256;
  int world_size = 1;
  std::vector<ManifestFile> files;
};

// A file just written (or kept from an earlier run): its size and CRC-32 as
// its writer worked them out (`sum`), or else read back from disk; its tensors
// from `contents` (the dict written, or one with the same shapes).
ManifestFile describe_prediction_file(const std::filesystem::path& output_dir, const std::filesystem::path& file,
                                      std::string kind, int rank, std::vector<std::int64_t> batches,
                                      std::vector<std::int64_t> indices, const c10::IValue& contents,
                                      const std::optional<FileSum>& sum = std::nullopt);

// One rank's files as JSON text, for gathering to rank 0, and back.
std::string files_to_json(const std::vector<ManifestFile>& files);
std::vector<ManifestFile> files_from_json(const std::string& text);

// Writes output_dir/manifest.json atomically (a temporary name, then rename).
void write_manifest(const Manifest& manifest, const std::filesystem::path& output_dir);
// nullopt when output_dir has no manifest; a DataError naming it when it is malformed.
std::optional<Manifest> read_manifest(const std::filesystem::path& output_dir);

std::uint32_t file_crc32(const std::filesystem::path& file);

}  // namespace minitrain
