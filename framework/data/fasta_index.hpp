#pragma once
// A FASTA file larger than memory: a record index, like samtools faidx's
// .fai (each record's ID, where its sequence lines start and end, its residue
// count), built by one checked pass on first use and saved next to the file as
// FILE.mtfai, or in the cache directory when the file's directory is not
// writable. It is reused while the file keeps its size and modification time
// and built again when either changes. Records are read on demand, by offset,
// and only as many residues as the batch can use: memory follows the number
// of records, not of residues.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "minitrain/data/sequence_dataset.hpp"

namespace minitrain {

// Where indexes go when the FASTA file's directory is not writable:
// $XDG_CACHE_HOME/minitrain/fasta_index, else ~/.cache/minitrain/fasta_index.
std::filesystem::path fasta_index_cache_dir();

class IndexedFasta : public SequenceRecords {
 public:
  // Reads the file's index, or builds and saves it. Throws DataError for a
  // malformed FASTA file (as read_fasta does) or one that cannot be read.
  IndexedFasta(const std::filesystem::path& fasta, const std::filesystem::path& cache_dir = fasta_index_cache_dir());
  ~IndexedFasta() override;
  IndexedFasta(const IndexedFasta&) = delete;
  IndexedFasta& operator=(const IndexedFasta&) = delete;

  std::int64_t size() const override { return static_cast<std::int64_t>(records_.size()); }
  std::string id(std::int64_t index) const override;
  std::string residues(std::int64_t index, std::int64_t count) const override;
  std::int64_t length(std::int64_t index) const override { return records_.at(static_cast<std::size_t>(index)).residues; }

  const std::filesystem::path& index_path() const { return index_path_; }
  bool built() const { return built_; }  // false: an existing index was reused

 private:
  struct Record {
    std::string id;
    std::int64_t offset;    // the first sequence line
    std::int64_t end;       // the line after the last one
    std::int64_t residues;  // residues in the record
  };
  bool load(const std::filesystem::path& index);
  void build();

  std::filesystem::path path_;
  std::filesystem::path index_path_;
  int fd_ = -1;
  std::uint64_t file_size_ = 0;
  std::int64_t file_mtime_ns_ = 0;
  bool built_ = false;
  std::vector<Record> records_;
};

}  // namespace minitrain
