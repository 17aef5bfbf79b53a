#pragma once
// Text inputs line by line, plain or gzip-compressed (told by the gzip magic
// bytes, whatever the name), read as a stream through zlib: memory holds a
// buffer and the current line, never the file. Multi-member files (bgzip,
// concatenated .gz) are read whole.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace minitrain {

class TextLines {
 public:
  // Opens `path`; is_open() says whether it could be (the caller words the error).
  explicit TextLines(const std::filesystem::path& path);
  ~TextLines();
  TextLines(const TextLines&) = delete;
  TextLines& operator=(const TextLines&) = delete;

  bool is_open() const { return file_ != nullptr; }
  bool compressed() const { return compressed_; }

  // The next line without its line break (and without a trailing '\r'); false
  // at the end. A corrupt or truncated gzip stream is a DataError naming the
  // file and the compressed byte offset where reading stopped.
  bool next(std::string& line);
  // Byte offsets in the (uncompressed) text: where the line next() returned
  // begins, and where the line after it begins.
  std::int64_t line_offset() const { return line_offset_; }
  std::int64_t next_offset() const { return dropped_ + static_cast<std::int64_t>(begin_); }

 private:
  bool fill();
  std::filesystem::path path_;
  void* file_ = nullptr;  // zlib's gzFile
  bool compressed_ = false;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  bool at_end_ = false;
  std::int64_t dropped_ = 0;  // bytes moved out of the front of buffer_
  std::int64_t line_offset_ = 0;
};

// Whether the file starts with the gzip magic bytes.
bool is_gzip_file(const std::filesystem::path& path);

}  // namespace minitrain
