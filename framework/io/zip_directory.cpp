#include "minitrain/io/zip_directory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace {

std::uint64_t little_endian(const char* bytes, int size) {
  std::uint64_t value = 0;
  for (int i = size; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

class ZipFile {
 public:
  explicit ZipFile(const std::filesystem::path& file) : file_(file), in_(file, std::ios::binary) {
    if (!in_) throw DataError(fmt::format("{}: error: cannot open", file.string()));
    in_.seekg(0, std::ios::end);
    size_ = static_cast<std::uint64_t>(in_.tellg());
  }
  std::uint64_t size() const { return size_; }
  std::vector<char> read(std::uint64_t offset, std::uint64_t count) {
    if (offset > size_ || count > size_ - offset) throw broken("a record or directory entry lies past the end of the file");
    std::vector<char> bytes(count);
    in_.seekg(static_cast<std::streamoff>(offset));
    if (!in_.read(bytes.data(), static_cast<std::streamsize>(count))) throw broken("cannot read it");
    return bytes;
  }
  DataError broken(const std::string& why) const {
    return DataError(fmt::format("{}: error: not a readable torch.save file: {}", file_.string(), why));
  }

 private:
  std::filesystem::path file_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
};

// The zip64 extra field's values, in the order the spec gives them, for those whose 32-bit field is 0xFFFFFFFF.
void apply_zip64(const std::vector<char>& extra, std::uint64_t& uncompressed, std::uint64_t& compressed, std::uint64_t& offset) {
  for (std::size_t at = 0; at + 4 <= extra.size();) {
    const auto id = little_endian(&extra[at], 2);
    const auto length = little_endian(&extra[at + 2], 2);
    if (id == 0x0001) {
      std::size_t field = at + 4;
      for (std::uint64_t* value : {&uncompressed, &compressed, &offset}) {
        if (*value != 0xFFFFFFFFu || field + 8 > at + 4 + length || field + 8 > extra.size()) continue;
        *value = little_endian(&extra[field], 8);
        field += 8;
      }
    }
    at += 4 + length;
  }
}

}  // namespace

std::map<std::string, ZipRecord> read_zip_directory(const std::filesystem::path& file) {
  ZipFile zip(file);
  // The end-of-directory record: in the last 64 KiB + 22 bytes (a comment may follow it).
  const std::uint64_t tail_size = std::min<std::uint64_t>(zip.size(), 65557);
  const std::vector<char> tail = zip.read(zip.size() - tail_size, tail_size);
  std::size_t end = tail.size() < 22 ? std::string::npos : tail.size() - 22;
  while (end != std::string::npos && little_endian(&tail[end], 4) != 0x06054b50) end = end == 0 ? std::string::npos : end - 1;
  if (end == std::string::npos) throw zip.broken("no zip end-of-directory record");
  std::uint64_t entries = little_endian(&tail[end + 10], 2);
  std::uint64_t directory_size = little_endian(&tail[end + 12], 4);
  std::uint64_t directory_offset = little_endian(&tail[end + 16], 4);
  if (directory_offset == 0xFFFFFFFFu || entries == 0xFFFF) {  // zip64: its end record, through the locator before this one
    const std::uint64_t locator = zip.size() - tail_size + end;
    if (locator < 20) throw zip.broken("no zip64 end-of-directory locator");
    const std::vector<char> found = zip.read(locator - 20, 20);
    if (little_endian(found.data(), 4) != 0x07064b50) throw zip.broken("no zip64 end-of-directory locator");
    const std::vector<char> record = zip.read(little_endian(&found[8], 8), 56);
    if (little_endian(record.data(), 4) != 0x06064b50) throw zip.broken("no zip64 end-of-directory record");
    entries = little_endian(&record[32], 8);
    directory_size = little_endian(&record[40], 8);
    directory_offset = little_endian(&record[48], 8);
  }
  const std::vector<char> directory = zip.read(directory_offset, directory_size);
  std::map<std::string, ZipRecord> records;
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (at + 46 > directory.size() || little_endian(&directory[at], 4) != 0x02014b50) throw zip.broken("a damaged zip directory");
    const auto method = little_endian(&directory[at + 10], 2);
    std::uint64_t compressed = little_endian(&directory[at + 20], 4);
    std::uint64_t uncompressed = little_endian(&directory[at + 24], 4);
    const auto name_length = little_endian(&directory[at + 28], 2);
    const auto extra_length = little_endian(&directory[at + 30], 2);
    const auto comment_length = little_endian(&directory[at + 32], 2);
    std::uint64_t header_offset = little_endian(&directory[at + 42], 4);
    if (at + 46 + name_length + extra_length > directory.size()) throw zip.broken("a damaged zip directory");
    std::string name(&directory[at + 46], name_length);
    apply_zip64(std::vector<char>(&directory[at + 46 + name_length], &directory[at + 46 + name_length] + extra_length),
                uncompressed, compressed, header_offset);
    const std::vector<char> local = zip.read(header_offset, 30);
    if (little_endian(local.data(), 4) != 0x04034b50) throw zip.broken(fmt::format("record {} has no local header", name));
    const std::uint64_t data_offset = header_offset + 30 + little_endian(&local[26], 2) + little_endian(&local[28], 2);
    if (data_offset > zip.size() || compressed > zip.size() - data_offset)
      throw zip.broken(fmt::format("record {} lies past the end of the file", name));
    records[std::move(name)] = ZipRecord{data_offset, method == 0 ? uncompressed : compressed, method == 0};
    at += 46 + name_length + extra_length + comment_length;
  }
  return records;
}

}  // namespace minitrain
