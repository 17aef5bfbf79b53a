#include "minitrain/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace fs = std::filesystem;

fs::path temporary_path_for(const fs::path& path) {
  fs::path temporary = path;
  temporary += fmt::format(".tmp{}", ::getpid());
  return temporary;
}

void commit_file(const fs::path& temporary, const fs::path& path, const SaveOptions& options) {
  if (options.before_commit) options.before_commit();
  fs::rename(temporary, path);
  if (!options.fsync) return;
  // The rename itself is durable only once the directory is flushed too.
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw Error(fmt::format("cannot fsync directory {}: {}", dir.string(), std::strerror(error)));
  }
  ::close(fd);
}

void write_all_at(int fd, const void* data, std::size_t size, std::uint64_t offset, const std::string& shown_name) {
  write_all_at(fd, {}, {static_cast<const char*>(data), size}, offset, shown_name);
}

void write_all_at(int fd, std::span<const char> head, std::span<const char> body, std::uint64_t offset,
                  const std::string& shown_name) {
  iovec pieces[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
  iovec* next = pieces;
  int count = 2;
  for (;;) {
    while (count > 0 && next->iov_len == 0) {
      ++next;
      --count;
    }
    if (count == 0) return;
    const ssize_t n = ::pwritev(fd, next, count, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot write {}: {}", shown_name, std::strerror(errno)));
    offset += static_cast<std::uint64_t>(n);
    for (std::size_t done = static_cast<std::size_t>(n); done > 0;) {  // a short write: step past what went out
      const std::size_t step = std::min(done, next->iov_len);
      next->iov_base = static_cast<char*>(next->iov_base) + step;
      next->iov_len -= step;
      done -= step;
      if (next->iov_len == 0 && done > 0) {
        ++next;
        --count;
      }
    }
  }
}

AtomicFile::AtomicFile(fs::path path, SaveOptions options)
    : path_(std::move(path)), temporary_(temporary_path_for(path_)), options_(options) {
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
  buffer_.reserve(1 << 20);
}

AtomicFile::~AtomicFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  std::error_code ignored;
  fs::remove(temporary_, ignored);
}

void AtomicFile::flush() {
  write_all_at(fd_, buffer_.data(), buffer_.size(), written_ - buffer_.size(), path_.string());
  buffer_.clear();
}

void AtomicFile::append(const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  if (buffer_.size() + size <= buffer_.capacity()) {
    buffer_.insert(buffer_.end(), bytes, bytes + size);
  } else {  // what the buffer holds goes out with the new piece, which goes to the kernel straight from its own memory
    write_all_at(fd_, buffer_, {bytes, size}, written_ - buffer_.size(), path_.string());
    buffer_.clear();
  }
  written_ += size;
}

void AtomicFile::commit() {
  flush();
  if (options_.fsync && ::fsync(fd_) != 0) throw Error(fmt::format("cannot fsync {}: {}", path_.string(), std::strerror(errno)));
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
  }
  fd_ = -1;
  try {
    commit_file(temporary_, path_, options_);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
    throw;
  }
}

void write_file_atomically(const fs::path& path, std::string_view contents, const SaveOptions& options) {
  AtomicFile file(path, options);
  file.append(contents.data(), contents.size());
  file.commit();
}

}  // namespace minitrain
