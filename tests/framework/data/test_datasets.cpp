// The table, tensor-file and synthetic datasets, and reading Python's
// torch.save files whatever their dicts hold.
#include <ATen/ATen.h>

#include <numeric>

#include "minitrain/base/error.hpp"
#include "minitrain/io/serialization.hpp"
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
std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}
}  // namespace

TEST_CASE("a CSV table becomes features and targets, columns chosen by name") {
  TempDir dir;
  const auto csv = write_file(dir / "rows.csv", "a, b ,\"c\",label\n1,2,3,0\n\n4.5,-5,6e1,2\r\n");
  SUBCASE("every other column is a feature; class labels are int64") {
    const TensorDataset table = read_table(csv, {.targets = {"label"}, .class_targets = true});
    CHECK(table.size() == 2);
    const Batch batch = table.get_batch(std::vector<std::int64_t>{1, 0});
    CHECK(at::equal(batch.field("features"), at::tensor({4.5f, -5.f, 60.f, 1.f, 2.f, 3.f}).view({2, 3})));
    CHECK(at::equal(batch.field("targets"), at::tensor(std::vector<std::int64_t>{2, 0})));
    CHECK(batch.indices == std::vector<std::int64_t>{1, 0});
  }
  SUBCASE("features in the order given; float targets keep their columns; no targets for prediction") {
    const TensorDataset regression = read_table(csv, {.features = {"c", "a"}, .targets = {"b", "label"}});
    const Batch batch = regression.get_batch(all_rows(2));
    CHECK(at::equal(batch.field("features"), at::tensor({3.f, 1.f, 60.f, 4.5f}).view({2, 2})));
    CHECK(at::equal(batch.field("targets"), at::tensor({2.f, 0.f, -5.f, 2.f}).view({2, 2})));
    const TensorDataset inputs = read_table(csv, {});
    CHECK(inputs.columns().count("targets") == 0);
    CHECK(inputs.columns().at("features").size(1) == 4);
  }
}

TEST_CASE("a .tsv file is split at tabs") {
  TempDir dir;
  const auto tsv = write_file(dir / "rows.tsv", "x\ty\n1\t2\n3\t4\n");
  const TensorDataset table = read_table(tsv, {.targets = {"y"}});
  CHECK(at::equal(table.columns().at("features"), at::tensor({1.f, 3.f}).view({2, 1})));
  CHECK_THROWS_WITH_AS(read_table(write_file(dir / "rows.csv", "x\ty\n1\t2\n"), {}),
                       doctest::Contains("the header is one column with tabs in it; name the file .tsv or set delimiter: tab"),
                       DataError);
}

TEST_CASE("malformed tables are DataErrors with file, line and column") {
  TempDir dir;
  auto error_of = [&](const std::string& text, TableOptions options = {.targets = {"y"}}) {
    const std::string path = write_file(dir / "t.csv", text).string();
    try {
      read_table(path, options);
    } catch (const DataError& e) {
      return std::string(e.what()).substr(path.size());
    }
    return std::string("no error");
  };
  CHECK(error_of("x,y\n1,2\n3,abc\n") == ":3:3: error: 'abc' in column 'y' is not a number");
  CHECK(error_of("x,y\n1,\n") == ":2:3: error: an empty cell in column 'y' is not a number");
  CHECK(error_of("x,y\n1,2,3\n") == ":2: error: 3 cells, but the header has 2 columns");
  CHECK(error_of("x,y\n1,2.5\n", {.targets = {"y"}, .class_targets = true}) ==
        ":2:3: error: class label '2.5' in column 'y' is not a whole number >= 0");
  CHECK(error_of("x,x\n1,2\n") == ":1:3: error: column 'x' appears twice in the header row");
  CHECK(error_of("x,y\n") == ": error: the table has a header but no rows");
  CHECK(error_of("") == ": error: the table is empty; it needs a header row naming its columns");
  CHECK(error_of("x,label\n1,2\n", {.targets = {"target"}}) == ":1: error: no target column 'target'; the header has: x, label");
  CHECK(error_of("xx,yy\n1,2\n", {.targets = {"y"}}) == ":1: error: no target column 'y' (did you mean yy?); the header has: xx, yy");
  CHECK_THROWS_WITH_AS(read_table(dir / "missing.csv", {}), doctest::Contains("cannot open table (no such file)"), DataError);
}

TEST_CASE("a tensor file from Python's torch.save is a dataset, one-key dicts included") {
  TempDir dir;
  REQUIRE(run_python(dir.path(), R"(import torch
torch.save({"features": torch.arange(12.).view(6, 2)}, "one.pt")
torch.save({"x": torch.arange(6), "y": torch.ones(6, 3), "meta": {"k": torch.zeros(1)}}, "nested.pt")
torch.save({"x": torch.arange(6), "y": torch.ones(5)}, "ragged.pt")
torch.save([torch.ones(2)], "list.pt")
torch.save({"a": [torch.ones(2)], "b": ({"c": [1]},)}, "singles.pt")
torch.save({str(i): torch.tensor(i) for i in range(1001)}, "big.pt")
torch.save(torch.nn.Linear(2, 3).state_dict(), "state_dict.pt")
torch.save(dict(torch.nn.Linear(2, 3).state_dict()), "plain_state_dict.pt")
)") == 0);
  const TensorDataset one = load_tensor_file(dir / "one.pt");
  CHECK(one.size() == 6);
  CHECK(at::equal(one.get_batch(std::vector<std::int64_t>{5}).field("features"), at::tensor({10.f, 11.f}).view({1, 2})));

  // A one-item dict nested in a bigger one, and a dict of 1001 items (pickled as a batch of 1000 and a single item).
  const auto nested = load_pickled(dir / "nested.pt").toGenericDict();
  CHECK(nested.at("meta").toGenericDict().at("k").toTensor().numel() == 1);
  const auto big = load_pickled(dir / "big.pt").toGenericDict();
  CHECK(big.size() == 1001);
  CHECK(big.at("1000").toTensor().item<std::int64_t>() == 1000);

  // A Python state_dict() is an OrderedDict; saved as a plain dict it loads.
  CHECK_THROWS_WITH_AS(load_pickled(dir / "state_dict.pt"), doctest::Contains("torch.save(dict(model.state_dict()), path)"), DataError);
  CHECK(load_pickled(dir / "plain_state_dict.pt").toGenericDict().at("weight").toTensor().size(0) == 3);

  const TensorDataset chosen = load_tensor_file(dir / "nested.pt", {"y", "x"});
  CHECK(chosen.columns().size() == 2);
  CHECK_THROWS_WITH_AS(load_tensor_file(dir / "nested.pt"), doctest::Contains("expected a dict of name: tensor, but entry 'meta' is a GenericDict; pick the tensors with keys: [...]"), DataError);
  CHECK_THROWS_WITH_AS(load_tensor_file(dir / "nested.pt", {"z"}), doctest::Contains("no tensor 'z' in the file; it has: x, y, meta"), DataError);
  CHECK_THROWS_WITH_AS(load_tensor_file(dir / "ragged.pt"), doctest::Contains("tensor 'y' has 5 rows but 'x' has 6"), DataError);
  CHECK_THROWS_WITH_AS(load_tensor_file(dir / "list.pt"), doctest::Contains("expected a dict of tensors"), DataError);
  CHECK(load_pickled(dir / "list.pt").toListRef().size() == 1);
  const auto singles = load_pickled(dir / "singles.pt").toGenericDict();
  CHECK(singles.at("a").toListRef().size() == 1);
  CHECK(singles.at("b").toTupleRef().elements()[0].toGenericDict().at("c").toListRef()[0].toInt() == 1);
  CHECK_THROWS_WITH_AS(load_tensor_file(write_file(dir / "junk.pt", "not a zip")), doctest::Contains("junk.pt: error: not a readable torch.save file: PytorchStreamReader failed"), DataError);
}

TEST_CASE("the synthetic dataset is a pure function of seed and index, and learnable") {
  const SyntheticDataset data(1000000, 8, 3, 7);
  CHECK(data.size() == 1000000);
  const Batch a = data.get_batch(std::vector<std::int64_t>{5, 999999, 42});
  const Batch b = data.get_batch(std::vector<std::int64_t>{42});
  CHECK(at::equal(a.field("features")[2], b.field("features")[0]));
  CHECK(at::equal(a.field("targets")[2], b.field("targets")[0]));
  CHECK((a.field("features").sizes() == at::IntArrayRef({3, 8})));
  CHECK((a.field("targets").scalar_type() == at::kLong));
  CHECK_FALSE(at::equal(SyntheticDataset(10, 8, 3, 8).get_batch(std::vector<std::int64_t>{0}).field("features"),
                        data.get_batch(std::vector<std::int64_t>{0}).field("features")));

  const Batch many = data.get_batch(all_rows(4000));
  const at::Tensor x = many.field("features");
  CHECK(x.mean().abs().item<double>() < 0.05);
  CHECK(std::abs(x.std().item<double>() - 1.0) < 0.05);
  // Every class occurs: the teacher does not collapse to one label.
  CHECK(at::bincount(many.field("targets")).min().item<std::int64_t>() > 400);

  const SyntheticDataset regression(100, 4, 0, 1);
  const Batch r = regression.get_batch(all_rows(100));
  CHECK((r.field("targets").sizes() == at::IntArrayRef({100, 1})));
  CHECK_THROWS_WITH_AS(SyntheticDataset(10, 4, 1, 0), doctest::Contains("num_classes must be 0 (regression) or at least 2"), Error);
}
