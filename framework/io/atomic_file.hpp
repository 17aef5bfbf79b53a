#pragma once
// Files that appear whole or not at all: written under a temporary name in
// their directory (name.tmpPID) and renamed to their final name once complete.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "minitrain/io/byte_sink.hpp"

namespace minitrain {

// A written file's size and CRC-32, as a manifest lists it.
struct FileSum {
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
};

struct SaveOptions {
  bool fsync = false;  // flush to the device before the rename (and the directory after it)
  // Runs just before the file takes its final name; what it throws stops that (the file is removed).
  std::function<void()> before_commit;
};

// `path` with ".tmp<pid>" appended: where it is written until complete.
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

// Renames a finished temporary file over `path`, and fsyncs the directory if asked.
void commit_file(const std::filesystem::path& temporary, const std::filesystem::path& path, const SaveOptions& options);

// Writes all of [data, data + size) at `offset` of the open file `fd`, however
// many pwrite calls it takes. Throws Error naming `shown_name` and the reason.
void write_all_at(int fd, const void* data, std::size_t size, std::uint64_t offset, const std::string& shown_name);

// The same for `head` followed by `body`, in one pwritev where the kernel takes it all:
// a buffered header goes out with the data after it, one system call instead of two.
void write_all_at(int fd, std::span<const char> head, std::span<const char> body, std::uint64_t offset,
                  const std::string& shown_name);

// A file written through a buffer into its temporary name; commit() gives it
// its final name, and a file never committed is removed. Errors name `path`.
class AtomicFile : public ByteSink {
 public:
  AtomicFile(std::filesystem::path path, SaveOptions options);
  ~AtomicFile() override;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void append(const void* data, std::size_t size) override;
  std::uint64_t size() const { return written_; }
  void commit();

 private:
  void flush();
  std::filesystem::path path_;
  std::filesystem::path temporary_;
  SaveOptions options_;
  int fd_ = -1;
  std::vector<char> buffer_;
  std::uint64_t written_ = 0;
};

void write_file_atomically(const std::filesystem::path& path, std::string_view contents, const SaveOptions& options = {});

}  // namespace minitrain
