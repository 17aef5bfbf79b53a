// Sequences from a table's column and from an indexed FASTA file, each equal to
// the same records read from FASTA into memory.
#include <ATen/ATen.h>
#include <sys/stat.h>

#include <fstream>
#include <numeric>

#include "minitrain/base/error.hpp"
#include "minitrain/data/fasta.hpp"
#include "minitrain/data/fasta_index.hpp"
#include "minitrain/data/table_file.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;

namespace {

const char* kFasta = ">sp|P1|A first\nMKV-LA\nGG*\n;comment\n>sp|P2|B\nmkt\n\n>   \nACDEFGHIKLMNPQRSTVWYXBZUO\n";

std::vector<std::int64_t> every_row(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

void check_same_batches(const Dataset& a, const Dataset& b) {
  REQUIRE(a.size() == b.size());
  const auto rows = every_row(a.size());
  const Batch x = a.get_batch(rows), y = b.get_batch(rows);
  CHECK(at::equal(x.field("input_ids"), y.field("input_ids")));
  CHECK(at::equal(x.field("attention_mask"), y.field("attention_mask")));
  for (std::int64_t i = 0; i < a.size(); ++i) CHECK(a.sample_id(i) == b.sample_id(i));
}

}  // namespace

TEST_CASE("a table's sequence column is tokenized as FASTA records are, quoted cells included") {
  TempDir dir;
  const auto fasta = write_file(dir / "s.fa", kFasta);
  const auto table = write_file(dir / "s.csv", "id,note,sequence\nsp|P1|A,\"first, \"\"quoted\"\"\",MKV-LAGG*\n"
                                               "sp|P2|B,,mkt\n2,x,ACDEFGHIKLMNPQRSTVWYXBZUO\n");
  for (const std::int64_t max_length : {3, 8, 40}) {
    const SequenceDataset from_fasta(fasta_in_memory(fasta), max_length, Padding::longest);
    const SequenceDataset from_table(read_sequence_table(table, {.id_column = "id", .sequence_column = "sequence"}),
                                     max_length, Padding::longest);
    check_same_batches(from_fasta, from_table);
  }
  // Without an id_column rows are named by their index.
  const SequenceDataset unnamed(read_sequence_table(table, {.sequence_column = "sequence"}), 8, Padding::max_length);
  CHECK(unnamed.sample_id(1) == "1");
  CHECK(unnamed.get_batch(every_row(1)).field("input_ids").size(1) == 8);
}

TEST_CASE("a bad sequence cell or quoted cell is a DataError with file, line and column") {
  TempDir dir;
  auto error_of = [&](const std::string& text) {
    const std::string path = write_file(dir / "t.csv", text).string();
    try {
      read_sequence_table(path, {.id_column = "id", .sequence_column = "seq"});
    } catch (const DataError& e) {
      return std::string(e.what()).substr(path.size());
    }
    return std::string("no error");
  };
  CHECK(error_of("id,seq\na,MK1V\n") == ":2:5: error: '1' is not an amino-acid letter in column 'seq'");
  CHECK(error_of("id,seq\na,\n") == ":2:3: error: no sequence in column 'seq'; every row needs one");
  CHECK(error_of("id,seq\n,MK\n") == ":2:1: error: empty sample ID in column 'id'; every row needs one");
  CHECK(error_of("id,sequence\na,MK\n") ==
        ":1: error: no sequence column 'seq'; the header has: id, sequence");
  CHECK(error_of("id,seq\n\"a,MK\n").find(":2:1: error: the quoted cell is not closed on its line") == 0);
  CHECK(error_of("id,seq\n\"a\"b,MK\n").find(":2:4: error: text after the closing quote of a cell") == 0);
}

TEST_CASE("an indexed FASTA file reads the same records on demand, and its index is reused until the file changes") {
  TempDir dir;
  const auto fasta = write_file(dir / "s.fa", kFasta);
  const auto cache = dir / "cache";
  const SequenceDataset in_memory(fasta_in_memory(fasta), 40, Padding::longest);
  {
    const auto indexed = std::make_shared<IndexedFasta>(fasta, cache);
    CHECK(indexed->built());
    CHECK(indexed->index_path() == dir / "s.fa.mtfai");
    CHECK(indexed->residues(0, 3) == "MKV");  // only as many as asked for
    CHECK(indexed->residues(0, 100) == "MKVLAGG");
    check_same_batches(in_memory, SequenceDataset(indexed, 40, Padding::longest));
  }
  CHECK_FALSE(IndexedFasta(fasta, cache).built());  // reused

  // Windows line ends: the offsets count the '\r's, and no residue comes from them.
  std::string crlf;
  for (const char c : std::string(kFasta)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  check_same_batches(in_memory, SequenceDataset(std::make_shared<IndexedFasta>(write_file(dir / "crlf.fa", crlf), cache),
                                                40, Padding::longest));

  // A changed file (another size or modification time) is indexed again.
  std::ofstream(fasta, std::ios::app) << ">P3\nWW\n";
  const auto changed = std::make_shared<IndexedFasta>(fasta, cache);
  CHECK(changed->built());
  CHECK(changed->size() == 4);
  CHECK(changed->residues(3, 10) == "WW");

  // A damaged index is built again rather than trusted.
  write_file(dir / "s.fa.mtfai", "#minitrain-fasta-index 1\t1\t2\n");
  CHECK(IndexedFasta(fasta, cache).built());
  {
    std::ifstream in(dir / "s.fa.mtfai");
    std::string first;
    std::getline(in, first);
    CHECK(first.rfind("#minitrain-fasta-index 1\t", 0) == 0);
  }
  const auto text = minitrain::testing::read_file(dir / "s.fa.mtfai");
  write_file(dir / "s.fa.mtfai", text.substr(0, text.size() - 5));  // cut short
  CHECK(IndexedFasta(fasta, cache).built());
}

TEST_CASE("an index that cannot go beside the file goes to the cache directory") {
  TempDir dir;
  const auto fasta = write_file(dir / "s.fa", kFasta);
  std::filesystem::create_directory(dir / "s.fa.mtfai");  // in the way of the index beside the file
  const IndexedFasta first(fasta, dir / "cache");
  CHECK(first.built());
  CHECK(first.index_path().parent_path() == dir / "cache");
  const IndexedFasta second(fasta, dir / "cache");
  CHECK_FALSE(second.built());
  CHECK(second.index_path() == first.index_path());
}

TEST_CASE("an indexed FASTA file is checked as read_fasta checks it") {
  TempDir dir;
  const auto fasta = write_file(dir / "bad.fa", ">a\nMK\n>b\nM1K\n");
  CHECK_THROWS_WITH_AS(IndexedFasta(fasta, dir / "cache"),
                       (fasta.string() + ":4:2: error: '1' is not an amino-acid letter in record 'b'").c_str(), DataError);
  CHECK_FALSE(std::filesystem::exists(dir / "bad.fa.mtfai"));
  CHECK_THROWS_WITH_AS(IndexedFasta(dir / "none.fa", dir / "cache"), doctest::Contains("cannot open FASTA file"), DataError);
}

TEST_CASE("an indexed record that no longer matches the file is an error, not other residues") {
  TempDir dir;
  const auto fasta = write_file(dir / "s.fa", ">a\nMKVLA\n>b\nGG\n");
  const IndexedFasta indexed(fasta, dir / "cache");
  write_file(fasta, ">a\nMK\n");  // rewritten under the open index
  CHECK_THROWS_WITH_AS(indexed.residues(0, 10), doctest::Contains("the file changed while it was read"), DataError);
}
