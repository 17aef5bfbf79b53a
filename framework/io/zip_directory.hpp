#pragma once
// The records of a zip archive (a torch.save file) as its central directory
// lists them: where each one's data starts and how long it is, read without
// touching the data.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace minitrain {

struct ZipRecord {
  std::uint64_t data_offset = 0;  // of the record's first byte in the file
  std::uint64_t size = 0;         // stored bytes
  bool stored = true;             // false: compressed, so the bytes in the file are not the data
};

// By name, as the archive spells it (e.g. "archive/data/0"). DataError naming
// the file when it is not a zip archive or a record lies outside it.
std::map<std::string, ZipRecord> read_zip_directory(const std::filesystem::path& file);

}  // namespace minitrain
