#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "minitrain/base/error.hpp"
#include "minitrain/data/fasta.hpp"
#include "minitrain/data/synthetic_dataset.hpp"
#include "index_dataset.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;

TEST_CASE("FASTA: multi-line records joined, headers kept, case folded") {
  TempDir dir;
  const auto file = write_file(dir / "a.fa", ">sp|P1|ONE first protein  \nMKV\nlla\n\n>two\r\nACD*\n>gapped\nA-C.D\n");
  const auto records = read_fasta(file);
  REQUIRE(records.size() == 3);
  CHECK(records[0].header == "sp|P1|ONE first protein");
  CHECK(records[0].sequence == "MKVLLA");
  CHECK(records[0].line == 1);
  CHECK(records[1].sequence == "ACD");
  CHECK(records[1].line == 5);
  CHECK(records[2].sequence == "ACD");
}

TEST_CASE("FASTA: the shipped globins read as 45 records") {
  const auto records = read_fasta(std::filesystem::path(MINITRAIN_SOURCE_DIR) / "configs/data/globins45.fa");
  CHECK(records.size() == 45);
  CHECK(records.front().header == "MYG_ESCGI");
  CHECK(records.front().sequence.substr(0, 10) == "VLSDAEWQLV");
}

TEST_CASE("FASTA: malformed files name file, line and what is wrong") {
  TempDir dir;
  const std::string p = (dir / "bad.fa").string();
  write_file(dir / "bad.fa", "MKV\n>a\nMKV\n");
  CHECK_THROWS_WITH_AS(read_fasta(p), (p + ":1: error: sequence data before the first '>' header line\n  fix: a FASTA record starts with a line like '>name description'").c_str(), DataError);
  write_file(dir / "bad.fa", ">a\nMK1V\n");
  CHECK_THROWS_WITH_AS(read_fasta(p), (p + ":2:3: error: '1' is not an amino-acid letter in record 'a'").c_str(), DataError);
  write_file(dir / "bad.fa", ">a\n>b\nMKV\n");
  CHECK_THROWS_WITH_AS(read_fasta(p), (p + ":1: error: record 'a' has no sequence before line 2").c_str(), DataError);
  write_file(dir / "bad.fa", "");
  CHECK_THROWS_WITH_AS(read_fasta(p), doctest::Contains("no FASTA records found"), DataError);
  CHECK_THROWS_WITH_AS(read_fasta(dir / "missing.fa"), doctest::Contains("cannot open FASTA file (no such file)"), DataError);
}

TEST_CASE("tokenizer: <cls> residues <eos>, truncated to max_length") {
  AminoAcidTokenizer tokenizer;
  CHECK(tokenizer.vocab_size() == 30);
  CHECK(tokenizer.encode("ACY", 10) == std::vector<std::int64_t>{1, 5, 6, 24, 2});
  CHECK(tokenizer.encode("ACDEF", 4) == std::vector<std::int64_t>{1, 5, 6, 2});
  CHECK(tokenizer.encode("J", 10)[1] == AminoAcidTokenizer::kUnk);
  CHECK(tokenizer.decode(tokenizer.encode("MKVLA", 100)) == "MKVLA");
}

TEST_CASE("SequenceDataset pads to the longest in the batch or to max_length") {
  const auto records = std::make_shared<SequencesInMemory>(std::vector<std::string>{"a", "b", "c"},
                                                           std::vector<std::string>{"MK", "MKVLA", "M"});
  SequenceDataset longest(records, 6, Padding::longest);
  const std::int64_t picks[] = {2, 1};
  Batch batch = longest.get_batch(picks);
  CHECK(batch.indices == std::vector<std::int64_t>{2, 1});
  CHECK(batch.field("input_ids").sizes() == at::IntArrayRef({2, 6}));  // MKVLA truncated to 4 residues + 2
  CHECK(at::equal(batch.field("input_ids")[0], at::tensor({1, 15, 2, 0, 0, 0}, at::kLong)));
  CHECK(batch.field("attention_mask").sum().item<std::int64_t>() == 3 + 6);
  const std::int64_t short_pick[] = {0};
  CHECK(longest.get_batch(short_pick).field("input_ids").size(1) == 4);
  SequenceDataset fixed(records, 6, Padding::max_length);
  CHECK(fixed.get_batch(short_pick).field("input_ids").size(1) == 6);
  CHECK_THROWS_WITH(batch.field("labels"), doctest::Contains("it has: attention_mask, input_ids"));
}

namespace {
std::vector<std::int64_t> epoch_order(DataLoader& loader, std::int64_t epoch) {
  loader.set_epoch(epoch);
  std::vector<std::int64_t> order;
  for (std::int64_t b = 0; b < loader.num_batches(); ++b) {
    const auto idx = loader.batch(b).indices;
    order.insert(order.end(), idx.begin(), idx.end());
  }
  return order;
}
}  // namespace

TEST_CASE("DataLoader: batches, drop_last and seeded shuffling") {
  auto data = std::make_shared<minitrain::testing::IndexDataset>(10);
  DataLoader plain(data, {4, false, false, 0});
  CHECK(plain.num_batches() == 3);
  CHECK(plain.batch(2).indices == std::vector<std::int64_t>{8, 9});
  DataLoader dropping(data, {4, false, true, 0});
  CHECK(dropping.num_batches() == 2);

  DataLoader a(data, {3, true, false, 42});
  DataLoader b(data, {3, true, false, 42});
  const auto first = epoch_order(a, 0);
  CHECK(first == epoch_order(b, 0));                    // same seed, same order
  CHECK(first != epoch_order(a, 1));                    // a new order each epoch
  CHECK(std::set<std::int64_t>(first.begin(), first.end()).size() == 10);  // every sample once
  CHECK(first != epoch_order(plain, 0));
  CHECK_THROWS_AS(DataLoader(data, {0, false, false, 0}), Error);
  CHECK_THROWS_AS(plain.batch(3), Error);
}

TEST_CASE("max_tokens packs each rank's samples by length into batches within the token budget") {
  std::vector<std::string> sequences;
  for (const int residues : {30, 2, 7, 100, 7, 1, 15, 3, 60, 9, 4, 5}) sequences.push_back(std::string(residues, 'M'));
  const auto records = std::make_shared<SequencesInMemory>(std::vector<std::string>{}, sequences);
  const auto dataset = std::make_shared<SequenceDataset>(records, 64, Padding::longest);
  for (const int world : {1, 2}) {
    std::vector<std::int64_t> seen;
    for (int rank = 0; rank < world; ++rank) {
      DataLoader loader(dataset, DataLoaderOptions{.batch_size = 1, .shard = Shard{rank, world, false}, .max_tokens = 40});
      std::int64_t previous_longest = 64;
      for (std::int64_t b = 0; b < loader.num_batches(); ++b) {
        const Batch batch = loader.batch(b);
        const at::Tensor ids = batch.field("input_ids");
        // Padded to the batch's longest: rows x length within the budget, unless one sample alone exceeds it.
        CHECK((ids.numel() <= 40 || ids.size(0) == 1));
        CHECK(ids.size(1) <= previous_longest);  // longest first
        previous_longest = ids.size(1);
        seen.insert(seen.end(), batch.indices.begin(), batch.indices.end());
      }
    }
    std::sort(seen.begin(), seen.end());
    std::vector<std::int64_t> every(sequences.size());
    std::iota(every.begin(), every.end(), 0);
    CHECK(seen == every);  // every sample once, over all ranks
  }
  DataLoader one(dataset, DataLoaderOptions{.batch_size = 1, .max_tokens = 40});
  CHECK(one.num_batches() < static_cast<std::int64_t>(sequences.size()));  // short ones share batches
  CHECK(one.batch(0).field("input_ids").size(1) == 64);  // the 100-residue one, cut to max_length
  CHECK(one.batch(0).indices.size() == 1);
  const SyntheticDataset no_lengths(4, 2, 2, 0);
  CHECK_THROWS_WITH(DataLoader(std::make_shared<SyntheticDataset>(no_lengths), DataLoaderOptions{.max_tokens = 10}),
                    doctest::Contains("max_tokens packs batches by sequence length, and this data has none"));
}
