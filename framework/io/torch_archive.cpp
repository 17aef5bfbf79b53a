#include "minitrain/io/torch_archive.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "minitrain/base/error.hpp"
#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/crc32.hpp"

namespace minitrain {

namespace {

constexpr std::uint64_t kAlignment = 64;  // PyTorch's kFieldAlignment
constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;
constexpr std::size_t kBufferSize = 64 << 10;  // headers and small records gather here; bigger data is written directly
// Below this a record's CRC is computed inline: handing it to the helper thread costs about what it saves.
constexpr std::size_t kParallelCrcThreshold = 256 << 10;

// One helper thread, shared by every writer in the process, that computes a
// CRC-32 while the caller writes the same bytes.
class CrcHelper {
 public:
  static CrcHelper& instance() {
    static CrcHelper helper;
    return helper;
  }
  // Starts a CRC of [data, data + size) if the helper is free; false if busy.
  bool try_start(const void* data, std::size_t size) {
    std::lock_guard lock(mutex_);
    if (busy_) return false;
    busy_ = true;
    data_ = data;
    size_ = size;
    done_ = false;
    wake_.notify_one();
    return true;
  }
  std::uint32_t wait() {
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [this] { return done_; });
    busy_ = false;
    return result_;
  }
  ~CrcHelper() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  CrcHelper() : thread_([this] { run(); }) {}
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return stop_ || (busy_ && !done_ && data_); });
      if (stop_) return;
      const void* data = data_;
      const std::size_t size = size_;
      lock.unlock();
      const std::uint32_t crc = crc32_update(0, data, size);
      lock.lock();
      result_ = crc;
      data_ = nullptr;
      done_ = true;
      finished_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  bool busy_ = false, done_ = false, stop_ = false;
  const void* data_ = nullptr;
  std::size_t size_ = 0;
  std::uint32_t result_ = 0;
  std::thread thread_;
};

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
std::uint32_t clamp32(std::uint64_t v, bool zip64) { return zip64 ? kMax32 : static_cast<std::uint32_t>(v); }

// A record's local header, at `offset` in the file. Padded with an extra field so the
// data starts on a 64-byte boundary, as PyTorch does.
std::string local_header(const std::string& name, std::uint64_t size, std::uint32_t crc, std::uint64_t offset, bool zip64) {
  std::string header;
  put32(header, 0x04034b50);
  put16(header, zip64 ? 45 : 20);  // version needed
  put16(header, 0);                // flags
  put16(header, 0);                // stored
  put16(header, 0);                // time
  put16(header, 0x21);             // date: 1980-01-01
  put32(header, crc);
  put32(header, clamp32(size, zip64));
  put32(header, clamp32(size, zip64));
  put16(header, static_cast<std::uint16_t>(name.size()));
  std::string extra;
  if (zip64) {
    put16(extra, 0x0001);
    put16(extra, 16);
    put64(extra, size);
    put64(extra, size);
  }
  const std::uint64_t data_start = offset + 30 + name.size() + extra.size();
  std::uint64_t padding = (kAlignment - (data_start + 4) % kAlignment) % kAlignment;
  put16(extra, 0x4246);  // "FB"
  put16(extra, static_cast<std::uint16_t>(padding));
  extra.append(padding, 'Z');
  put16(header, static_cast<std::uint16_t>(extra.size()));
  header += name;
  header += extra;
  return header;
}

}  // namespace

std::string archive_record_name(const std::string& name) { return "archive/" + name; }

TorchArchiveWriter::TorchArchiveWriter(std::filesystem::path path, Options options)
    : path_(std::move(path)), options_(std::move(options)),
      shown_name_(options_.name_in_errors.empty() ? path_.string() : options_.name_in_errors.string()) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(fmt::format("cannot create {}: {}", shown_name_, std::strerror(errno)));
  buffer_.reserve(kBufferSize);
}

TorchArchiveWriter::~TorchArchiveWriter() {
  if (fd_ >= 0) ::close(fd_);
}

bool TorchArchiveWriter::needs_zip64(std::uint64_t value) const {
  return options_.force_zip64 || value >= kMax32;
}

// The buffer always holds the bytes just before offset_.
void TorchArchiveWriter::flush_buffer() {
  write_all_at(fd_, buffer_.data(), buffer_.size(), offset_ - buffer_.size(), shown_name_);
  buffer_.clear();
}

void TorchArchiveWriter::write_bytes(const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  if (size < kBufferSize && buffer_.size() + size <= kBufferSize) {
    buffer_.insert(buffer_.end(), bytes, bytes + size);
  } else {  // big pieces go to the kernel straight from the caller's memory, with the buffered header before them
    write_all_at(fd_, buffer_, {bytes, size}, offset_ - buffer_.size(), shown_name_);
    buffer_.clear();
  }
  offset_ += size;
}

void TorchArchiveWriter::write_local_header(const std::string& name, std::uint64_t size) {
  const std::string header = local_header(name, size, 0, offset_, needs_zip64(size));  // the CRC is patched in later
  write_bytes(header.data(), header.size());
}

std::uint64_t TorchArchiveWriter::begin_record(const std::string& name, std::uint64_t size) {
  if (in_record_) throw Error("TorchArchiveWriter: begin_record while a record is open");
  entries_.push_back({archive_record_name(name), offset_, size, 0});
  write_local_header(entries_.back().name, size);
  in_record_ = true;
  record_remaining_ = size;
  record_crc_ = 0;
  return offset_;
}

void TorchArchiveWriter::append(const void* data, std::size_t size) {
  if (!in_record_ || size > record_remaining_)
    throw Error(fmt::format("TorchArchiveWriter: {} bytes appended past the declared record size", size));
  record_crc_ = crc32_update(record_crc_, data, size);
  write_bytes(data, size);
  record_remaining_ -= size;
}

void TorchArchiveWriter::end_record() {
  if (!in_record_ || record_remaining_ != 0)
    throw Error(fmt::format("TorchArchiveWriter: record ended {} bytes short", record_remaining_));
  in_record_ = false;
  entries_.back().crc = record_crc_;
  patch_crc(entries_.back());
}

std::uint64_t TorchArchiveWriter::write_record(const std::string& name, const void* data, std::size_t size) {
  const std::uint64_t data_offset = begin_record(name, size);
  CrcHelper& helper = CrcHelper::instance();
  if (size >= kParallelCrcThreshold && helper.try_start(data, size)) {
    try {
      write_bytes(data, size);
    } catch (...) {
      helper.wait();
      throw;
    }
    record_crc_ = helper.wait();
    record_remaining_ = 0;
  } else {
    append(data, size);
  }
  end_record();
  return data_offset;
}

std::size_t TorchArchiveWriter::reserve_record(const std::string& name, std::uint64_t size) {
  if (in_record_) throw Error("TorchArchiveWriter: reserve_record while a record is open");
  entries_.push_back({archive_record_name(name), offset_, size, 0});
  write_local_header(entries_.back().name, size);
  flush_buffer();  // the buffer holds only bytes that follow one another
  reserved_.push_back({entries_.size() - 1, offset_, 0});
  offset_ += size;
  return reserved_.size() - 1;
}

std::uint64_t TorchArchiveWriter::reserved_offset(std::size_t reserved) const { return reserved_.at(reserved).data_offset; }

std::uint64_t TorchArchiveWriter::reserved_filled(std::size_t reserved) const { return reserved_.at(reserved).filled; }

void TorchArchiveWriter::fill_reserved(std::size_t reserved, const void* data, std::size_t size) {
  Reserved& record = reserved_.at(reserved);
  Entry& entry = entries_[record.entry];
  if (size > entry.size - record.filled)
    throw Error(fmt::format("TorchArchiveWriter: {} bytes given past the end of reserved record {}", size, entry.name));
  write_all_at(fd_, data, size, record.data_offset + record.filled, shown_name_);
  entry.crc = crc32_update(entry.crc, data, size);
  record.filled += size;
}

void TorchArchiveWriter::patch_crc(const Entry& entry) {
  // The CRC field sits 14 bytes into the local header. A header still in the
  // buffer is patched there; one already written, in the file.
  const std::uint64_t position = entry.header_offset + 14;
  const std::uint64_t buffered_from = offset_ - buffer_.size();
  char crc[4];
  for (int i = 0; i < 4; ++i) crc[i] = static_cast<char>((entry.crc >> (8 * i)) & 0xFF);
  if (position >= buffered_from) {
    std::memcpy(buffer_.data() + (position - buffered_from), crc, 4);
    return;
  }
  write_all_at(fd_, crc, 4, position, shown_name_);
}

void TorchArchiveWriter::finish() {
  if (in_record_) throw Error("TorchArchiveWriter: finish while a record is open");
  for (const Reserved& record : reserved_) {
    const Entry& entry = entries_[record.entry];
    if (record.filled != entry.size)
      throw Error(fmt::format("TorchArchiveWriter: reserved record {} got {} of its {} bytes", entry.name, record.filled, entry.size));
    patch_crc(entry);
  }
  const std::uint64_t directory_offset = offset_;
  std::string tail;  // the central directory and its end records
  for (const Entry& entry : entries_) {
    const bool big_size = needs_zip64(entry.size);
    const bool big_offset = needs_zip64(entry.header_offset);
    std::string extra;
    if (big_size || big_offset) {
      put16(extra, 0x0001);
      put16(extra, static_cast<std::uint16_t>((big_size ? 16 : 0) + (big_offset ? 8 : 0)));
      if (big_size) {
        put64(extra, entry.size);
        put64(extra, entry.size);
      }
      if (big_offset) put64(extra, entry.header_offset);
    }
    std::string record;
    put32(record, 0x02014b50);
    put16(record, 45);  // made by
    put16(record, big_size || big_offset ? 45 : 20);
    put16(record, 0);
    put16(record, 0);
    put16(record, 0);
    put16(record, 0x21);
    put32(record, entry.crc);
    put32(record, clamp32(entry.size, big_size));
    put32(record, clamp32(entry.size, big_size));
    put16(record, static_cast<std::uint16_t>(entry.name.size()));
    put16(record, static_cast<std::uint16_t>(extra.size()));
    put16(record, 0);  // comment
    put16(record, 0);  // disk
    put16(record, 0);  // internal attributes
    put32(record, 0);  // external attributes
    put32(record, clamp32(entry.header_offset, big_offset));
    record += entry.name;
    record += extra;
    tail += record;
  }
  const std::uint64_t directory_size = tail.size();
  const std::uint64_t count = entries_.size();
  const bool zip64 = needs_zip64(directory_offset) || needs_zip64(directory_size) || count >= 0xFFFF;
  std::string end;
  if (zip64) {
    const std::uint64_t zip64_end_offset = directory_offset + directory_size;
    put32(end, 0x06064b50);
    put64(end, 44);
    put16(end, 45);
    put16(end, 45);
    put32(end, 0);
    put32(end, 0);
    put64(end, count);
    put64(end, count);
    put64(end, directory_size);
    put64(end, directory_offset);
    put32(end, 0x07064b50);  // zip64 end locator
    put32(end, 0);
    put64(end, zip64_end_offset);
    put32(end, 1);
  }
  put32(end, 0x06054b50);
  put16(end, 0);
  put16(end, 0);
  put16(end, zip64 ? 0xFFFF : static_cast<std::uint16_t>(count));
  put16(end, zip64 ? 0xFFFF : static_cast<std::uint16_t>(count));
  put32(end, clamp32(directory_size, zip64));
  put32(end, clamp32(directory_offset, zip64));
  put16(end, 0);
  tail += end;
  write_bytes(tail.data(), tail.size());
  flush_buffer();
  // The whole file's CRC-32 from its parts', every record's data CRC being known: nobody reads the file back for it.
  std::uint32_t crc = 0;
  auto add = [&crc](std::uint32_t part_crc, std::uint64_t part_size) {
    crc = crc32_concat(crc, part_crc, part_size);
  };
  for (const Entry& entry : entries_) {
    const std::string header = local_header(entry.name, entry.size, entry.crc, entry.header_offset, needs_zip64(entry.size));
    add(crc32_update(0, header.data(), header.size()), header.size());
    add(entry.crc, entry.size);
  }
  add(crc32_update(0, tail.data(), tail.size()), tail.size());
  file_crc32_ = crc;
  if (options_.fsync && ::fsync(fd_) != 0)
    throw Error(fmt::format("cannot fsync {}: {}", shown_name_, std::strerror(errno)));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw Error(fmt::format("cannot write {}: {}", shown_name_, std::strerror(errno)));
}

}  // namespace minitrain
