#include "minitrain/io/file_ranges.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "minitrain/base/error.hpp"

namespace minitrain {

void FileRanges::read(const std::filesystem::path& file, std::uint64_t offset, std::size_t size, void* out) {
  Open& f = open(file);
  char* bytes = static_cast<char*>(out);
  if (size >= window_bytes_) return read_exactly(file, f.fd, offset, size, bytes);
  const bool inside = offset >= f.window_start && offset + size <= f.window_start + f.window.size();
  if (!inside) {
    // Refill from `offset`; the window may end early at the end of the file.
    f.window.resize(window_bytes_);
    std::size_t filled = 0;
    while (filled < window_bytes_) {
      const ssize_t n = ::pread(f.fd, f.window.data() + filled, window_bytes_ - filled, static_cast<off_t>(offset + filled));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw DataError(fmt::format("{}: error: cannot read at byte {} ({})", file.string(), offset + filled, std::strerror(errno)));
      if (n == 0) break;
      filled += static_cast<std::size_t>(n);
    }
    f.window.resize(filled);
    f.window_start = offset;
    if (filled < size)
      throw DataError(fmt::format("{}: error: cannot read {} bytes at byte {}: the file is shorter than it was when written",
                                  file.string(), size, offset));
  }
  std::memcpy(bytes, f.window.data() + (offset - f.window_start), size);
}

void FileRanges::read_exactly(const std::filesystem::path& file, int fd, std::uint64_t offset, std::size_t size, char* out) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw DataError(fmt::format("{}: error: cannot read at byte {} ({})", file.string(), offset,
                                  n == 0 ? "the file is shorter than it was when written" : std::strerror(errno)));
    out += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::size_t>(n);
  }
}

FileRanges::Open& FileRanges::open(const std::filesystem::path& file) {
  const auto it = open_.find(file.string());
  if (it != open_.end()) return it->second;
  if (open_.size() >= kMaxOpen) close_all();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError(fmt::format("{}: error: cannot open: {}", file.string(), std::strerror(errno)));
  Open& opened = open_[file.string()];
  opened.fd = fd;
  return opened;
}

void FileRanges::close_all() {
  for (const auto& [name, f] : open_) ::close(f.fd);
  open_.clear();
}

}  // namespace minitrain
