#pragma once
// Byte ranges of files, read with pread through a few cached descriptors. Each
// open file keeps a window of the bytes that follow its last read, so rows
// read one by one in file order cost one system call per window rather than
// one per row; a read as large as the window goes straight to the caller.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace minitrain {

class FileRanges {
 public:
  explicit FileRanges(std::size_t window_bytes = 1 << 20) : window_bytes_(window_bytes) {}
  ~FileRanges() { close_all(); }
  FileRanges(const FileRanges&) = delete;
  FileRanges& operator=(const FileRanges&) = delete;

  // Reads exactly `size` bytes at `offset`; DataError naming the file when it
  // cannot be opened or is shorter than that.
  void read(const std::filesystem::path& file, std::uint64_t offset, std::size_t size, void* out);

 private:
  struct Open {
    int fd = -1;
    std::uint64_t window_start = 0;
    std::vector<char> window;  // the bytes from window_start on
  };
  Open& open(const std::filesystem::path& file);
  void read_exactly(const std::filesystem::path& file, int fd, std::uint64_t offset, std::size_t size, char* out);
  void close_all();

  static constexpr std::size_t kMaxOpen = 64;
  std::size_t window_bytes_;
  std::unordered_map<std::string, Open> open_;
};

}  // namespace minitrain
