#include "minitrain/data/fasta_index.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/base/sha256.hpp"
#include "minitrain/data/fasta.hpp"
#include "minitrain/io/atomic_file.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSignature = "#minitrain-fasta-index 1";

}  // namespace

fs::path fasta_index_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "minitrain" / "fasta_index";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".cache" / "minitrain" / "fasta_index";
}

IndexedFasta::IndexedFasta(const fs::path& fasta, const fs::path& cache_dir) : path_(fasta) {
  fd_ = ::open(fasta.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat status {};
  if (fd_ < 0 || ::fstat(fd_, &status) != 0) {
    const std::string why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    throw DataError(fmt::format("{}: error: cannot open FASTA file ({})\n  fix: check the fasta path in the data section "
                                "of the job file",
                                fasta.string(), why));
  }
  file_size_ = static_cast<std::uint64_t>(status.st_size);
  file_mtime_ns_ = static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1'000'000'000 + status.st_mtim.tv_nsec;
  const fs::path beside = fs::path(fasta.string() + ".mtfai");
  const fs::path cached = cache_dir / (sha256_hex(fs::absolute(fasta).lexically_normal().string()).substr(0, 32) + ".mtfai");
  try {
    for (const fs::path& candidate : {beside, cached}) {
      if (load(candidate)) {
        index_path_ = candidate;
        log::info(fmt::format("{}: {} records, read on demand through {}", fasta.string(), records_.size(),
                              candidate.string()));
        return;
      }
    }
    build();
    built_ = true;
    // Beside the file when that can be written, else in the cache directory.
    std::ostringstream text;
    text << kSignature << '\t' << file_size_ << '\t' << file_mtime_ns_ << '\t' << records_.size() << '\n';
    for (const Record& record : records_)
      text << record.id << '\t' << record.offset << '\t' << record.end << '\t' << record.residues << '\n';
    const std::string bytes = text.str();
    for (const fs::path& candidate : {beside, cached}) {
      try {
        fs::create_directories(candidate.parent_path().empty() ? "." : candidate.parent_path());
        AtomicFile file(candidate, {});  // several ranks may build it at once: each renames a whole file
        file.append(bytes.data(), bytes.size());
        file.commit();
      } catch (const std::exception&) {
        continue;  // a read-only directory, or something else in the way
      }
      index_path_ = candidate;
      log::info(fmt::format("{}: indexed {} records into {}", fasta.string(), records_.size(), candidate.string()));
      return;
    }
    log::warn(fmt::format("{}: indexed {} records, but neither {} nor {} could be written: the index is built again "
                          "next time",
                          fasta.string(), records_.size(), beside.string(), cached.string()));
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

IndexedFasta::~IndexedFasta() {
  if (fd_ >= 0) ::close(fd_);
}

// An index written for this very file (size and modification time); false for none, another or a damaged one.
bool IndexedFasta::load(const fs::path& index) {
  std::ifstream in(index);
  if (!in) return false;
  std::string signature;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::size_t count = 0;
  std::string line;
  if (!std::getline(in, line)) return false;
  std::istringstream head(line);
  std::string word1, word2;
  if (!(head >> word1 >> word2 >> size >> mtime >> count) || word1 + " " + word2 != kSignature) {
    log::warn(fmt::format("{}: not a FASTA index of this minitrain; building it again", index.string()));
    return false;
  }
  if (size != file_size_ || mtime != file_mtime_ns_) {
    log::info(fmt::format("{}: changed since {} was built; building the index again", path_.string(), index.string()));
    return false;
  }
  std::vector<Record> records;
  records.reserve(count);
  while (std::getline(in, line)) {
    const std::size_t tab = line.find('\t');
    Record record{line.substr(0, tab), 0, 0, 0};
    std::istringstream numbers(tab == std::string::npos ? "" : line.substr(tab + 1));
    if (!(numbers >> record.offset >> record.end >> record.residues) || record.offset < 0 || record.end < record.offset ||
        static_cast<std::uint64_t>(record.end) > file_size_)
      break;
    records.push_back(std::move(record));
  }
  if (records.size() != count) {
    log::warn(fmt::format("{}: the index is damaged (record {} of {}); building it again", index.string(),
                          records.size() + 1, count));
    return false;
  }
  records_ = std::move(records);
  return true;
}

void IndexedFasta::build() {
  log::info(fmt::format("{}: indexing its records (once; the index is reused while the file is unchanged)", path_.string()));
  records_.clear();
  scan_fasta(path_, false, [&](FastaRecord&& record) {
    records_.push_back({fasta_id(record.header), record.sequence_offset, record.sequence_end, record.residues});
  });
}

std::string IndexedFasta::id(std::int64_t index) const { return records_.at(static_cast<std::size_t>(index)).id; }

std::string IndexedFasta::residues(std::int64_t index, std::int64_t count) const {
  const Record& record = records_.at(static_cast<std::size_t>(index));
  const std::int64_t wanted = std::min(count, record.residues);
  std::string out;
  out.reserve(static_cast<std::size_t>(wanted));
  char chunk[1 << 16];
  bool line_start = true, comment = false;
  for (std::int64_t at = record.offset; at < record.end && static_cast<std::int64_t>(out.size()) < wanted;) {
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(sizeof chunk, record.end - at));
    const ssize_t got = ::pread(fd_, chunk, want, at);
    if (got <= 0) break;
    for (ssize_t i = 0; i < got && static_cast<std::int64_t>(out.size()) < wanted; ++i) {
      const char c = chunk[i];
      if (line_start && c == ';') comment = true;  // an old-style comment line
      line_start = c == '\n';
      if (line_start) comment = false;
      if (!comment && AminoAcidTokenizer::is_residue_char(c)) out += static_cast<char>(c & ~0x20);  // upper case
    }
    at += got;
  }
  if (static_cast<std::int64_t>(out.size()) != wanted)
    throw DataError(fmt::format("{}: error: record '{}' has {} residues where its index ({}) says {}: the file changed "
                                "while it was read\n  fix: run again; the index is built again for the changed file",
                                path_.string(), record.id, out.size(), index_path_.string(), record.residues));
  return out;
}

}  // namespace minitrain
