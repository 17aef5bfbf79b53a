// Sample IDs: each format names its samples, the DataLoader hands the names
// on with every batch, and repeated IDs are found.
#include <ATen/ATen.h>

#include "minitrain/base/error.hpp"
#include "minitrain/data/fasta.hpp"
#include "minitrain/data/sample_ids.hpp"
#include "minitrain/data/synthetic_dataset.hpp"
#include "minitrain/data/table_file.hpp"
#include "minitrain/data/tensor_dataset.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::run_python;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;

namespace {
std::vector<std::string> ids_of(const Dataset& dataset) {
  std::vector<std::string> ids;
  for (std::int64_t i = 0; i < dataset.size(); ++i) ids.push_back(dataset.sample_id(i));
  return ids;
}
}  // namespace

TEST_CASE("a FASTA sample is named by its header's first word, and batches carry the names of their rows") {
  TempDir dir;
  const auto fasta = write_file(dir / "s.fa", ">sp|P69905|HBA_HUMAN Hemoglobin alpha\nMVL\n>\tP2\tsecond\nKK\n>x\nA\n");
  auto dataset = std::make_shared<SequenceDataset>(fasta_in_memory(fasta), 8, Padding::longest);
  CHECK(ids_of(*dataset) == std::vector<std::string>{"sp|P69905|HBA_HUMAN", "P2", "x"});
  DataLoader loader(dataset, {.batch_size = 2, .shuffle = true, .seed = 3});
  std::vector<std::string> seen;
  for (std::int64_t b = 0; b < loader.num_batches(); ++b) {
    const Batch batch = loader.batch(b);
    REQUIRE(batch.ids.size() == batch.indices.size());
    for (std::size_t row = 0; row < batch.ids.size(); ++row) CHECK(batch.ids[row] == dataset->sample_id(batch.indices[row]));
    seen.insert(seen.end(), batch.ids.begin(), batch.ids.end());
  }
  CHECK(seen.size() == 3);
}

TEST_CASE("a FASTA header whose first word is empty names its sample by the index") {
  TempDir dir;
  const auto fasta = write_file(dir / "s.fa", ">a\nM\n>\nK\n");
  const SequenceDataset dataset(fasta_in_memory(fasta), 8, Padding::longest);
  CHECK(dataset.sample_id(1) == "1");
}

TEST_CASE("a table names its rows by id_column, which is then no feature; without one by the index") {
  TempDir dir;
  const auto csv = write_file(dir / "rows.csv", "name,x,y\n\"P1 a\",1,2\nP2,3,4\n");
  const TensorDataset named = read_table(csv, {.targets = {"y"}, .id_column = "name"});
  CHECK(ids_of(named) == std::vector<std::string>{"P1 a", "P2"});
  CHECK(at::equal(named.columns().at("features"), at::tensor({1.f, 3.f}).view({2, 1})));
  const TensorDataset unnamed = read_table(write_file(dir / "plain.csv", "x\n1\n2\n"), {});
  CHECK(ids_of(unnamed) == std::vector<std::string>{"0", "1"});
  const std::string empty = write_file(dir / "empty.csv", "name,x\nP1,1\n ,2\n").string();
  CHECK_THROWS_WITH_AS(read_table(empty, {.id_column = "name"}),
                       (empty + ":3:2: error: empty sample ID in column 'name'; every row needs one").c_str(), DataError);
  CHECK_THROWS_WITH_AS(read_table(empty, {.id_column = "nme"}), doctest::Contains("no ID column 'nme' (did you mean name?)"),
                       DataError);
}

TEST_CASE("a tensor file names its rows by ids_key: a list of str or a 1-D integer tensor") {
  TempDir dir;
  REQUIRE(run_python(dir.path(), "import torch\n"
                          "torch.save({'x': torch.zeros(3, 2), 'names': ['a', 'b', 'c'], 'taxid': torch.tensor([9606, 10090, 7955]),"
                          " 'short': ['a'], 'mixed': ['a', 1, 'c'], 'grid': torch.zeros(3, 2, dtype=torch.long)}, 'ids.pt')\n") == 0);
  const auto file = dir / "ids.pt";
  CHECK(ids_of(load_tensor_file(file, {"x"}, "names")) == std::vector<std::string>{"a", "b", "c"});
  CHECK(ids_of(load_tensor_file(file, {"x"}, "taxid")) == std::vector<std::string>{"9606", "10090", "7955"});
  CHECK(ids_of(load_tensor_file(file, {"x"})) == std::vector<std::string>{"0", "1", "2"});
  CHECK_THROWS_WITH_AS(load_tensor_file(file, {"x"}, "short"), doctest::Contains("there are 1 sample IDs for 3 rows"), DataError);
  CHECK_THROWS_WITH_AS(load_tensor_file(file, {"x"}, "mixed"),
                       doctest::Contains("ids_key 'mixed' is a list holding a Int; sample IDs are strings"), DataError);
  CHECK_THROWS_WITH_AS(load_tensor_file(file, {"x"}, "grid"),
                       doctest::Contains("ids_key 'grid' is a tensor of another shape or dtype; it must be a list of strings or a "
                                         "1-D tensor of integers"),
                       DataError);
  CHECK_THROWS_WITH_AS(load_tensor_file(file, {"x"}, "nope"), doctest::Contains("no entry 'nope' (ids_key) in the file"),
                       DataError);
}

TEST_CASE("repeated IDs are counted, with every sample of a few of them") {
  TempDir dir;
  const auto fasta = write_file(dir / "s.fa", ">a\nM\n>b\nM\n>a x\nM\n>c\nM\n>b\nM\n>a\nM\n");
  const SequenceDataset dataset(fasta_in_memory(fasta), 8, Padding::longest);
  const DuplicateIds found = find_duplicate_ids(dataset);
  CHECK(found.samples == 3);
  CHECK(describe(found) == "3 sample(s) repeat an earlier sample's ID, e.g. 'a' (samples 0, 2 and 5), 'b' (samples 1 and 4)");
  CHECK(find_duplicate_ids(dataset, 1).examples.size() == 1);
  CHECK(find_duplicate_ids(SyntheticDataset(50, 2, 2, 0)).samples == 0);
}
