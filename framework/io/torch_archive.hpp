#pragma once
// The container of a torch.save file, written by us: a zip archive of stored
// (uncompressed) records under "archive/", each record's data aligned to 64
// bytes as PyTorch aligns it, with zip64 fields when a size or offset passes
// 4 GiB. Written through one file descriptor so that big tensors go to the
// kernel straight from their own memory, with their CRC-32 computed on a
// second thread meanwhile (PyTorchStreamWriter computes it first, then writes:
// about 0.35x of a plain write here). Records can also be streamed in pieces,
// which lets an epoch file be assembled without holding it in memory, or
// reserved and filled in later while other records follow.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "minitrain/io/byte_sink.hpp"

namespace minitrain {

class TorchArchiveWriter : public ByteSink {
 public:
  struct Options {
    bool fsync = false;        // flush file data to the device before finish() returns
    bool force_zip64 = false;  // write zip64 fields even for small archives (tests)
    std::filesystem::path name_in_errors;  // the file as users know it (the final name of a temporary)
  };

  // Creates (truncates) `path`. Throws Error naming the path and the reason.
  TorchArchiveWriter(std::filesystem::path path, Options options);
  explicit TorchArchiveWriter(std::filesystem::path path) : TorchArchiveWriter(std::move(path), Options{}) {}
  ~TorchArchiveWriter() override;
  TorchArchiveWriter(const TorchArchiveWriter&) = delete;
  TorchArchiveWriter& operator=(const TorchArchiveWriter&) = delete;

  // A whole record; returns the file offset of its first data byte.
  std::uint64_t write_record(const std::string& name, const void* data, std::size_t size);

  // A record written in pieces whose sizes add up to `size`.
  std::uint64_t begin_record(const std::string& name, std::uint64_t size);
  void append(const void* data, std::size_t size) override;
  void end_record();

  // A record whose bytes come later, front to back, through fill_reserved;
  // the file skips past them meanwhile, so other records can follow at once.
  // Returns the record's handle for fill_reserved and reserved_offset.
  std::size_t reserve_record(const std::string& name, std::uint64_t size);
  std::uint64_t reserved_offset(std::size_t reserved) const;  // of its first data byte
  std::uint64_t reserved_filled(std::size_t reserved) const;  // bytes given so far
  void fill_reserved(std::size_t reserved, const void* data, std::size_t size);

  // Writes the central directory and closes the file (fsync first if asked).
  // Every reserved record must be full by then.
  void finish();
  // After finish: the file's size and CRC-32, worked out from its parts' CRCs.
  std::uint64_t size() const { return offset_; }
  std::uint32_t file_crc32() const { return file_crc32_; }

 private:
  struct Entry {
    std::string name;
    std::uint64_t header_offset;
    std::uint64_t size;
    std::uint32_t crc;
  };
  void write_local_header(const std::string& name, std::uint64_t size);
  void write_bytes(const void* data, std::size_t size);
  void flush_buffer();
  void patch_crc(const Entry& entry);
  bool needs_zip64(std::uint64_t value) const;
  struct Reserved {
    std::size_t entry;
    std::uint64_t data_offset;
    std::uint64_t filled;
  };

  std::filesystem::path path_;
  Options options_;
  std::string shown_name_;  // for error messages
  int fd_ = -1;
  std::uint64_t offset_ = 0;  // bytes handed to write_bytes so far
  std::vector<char> buffer_;  // small writes (headers) are gathered here
  std::vector<Entry> entries_;
  std::vector<Reserved> reserved_;
  bool in_record_ = false;
  std::uint64_t record_remaining_ = 0;
  std::uint32_t record_crc_ = 0;
  std::uint32_t file_crc32_ = 0;
};

// "archive/" + name, as torch.save names its records.
std::string archive_record_name(const std::string& name);

}  // namespace minitrain
