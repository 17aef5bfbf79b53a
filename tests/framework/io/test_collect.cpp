// collect: every rank's prediction files in one, in dataset order.
#include <ATen/ATen.h>

#include "minitrain/io/collect.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/serialization.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;

namespace {

// A prediction file for the given dataset indices: per sample i, emb = [i, i, i],
// tokens = i + 1 repeated `length` times, nested.score = 10 i.
void write_predictions(const std::filesystem::path& path, const std::vector<std::int64_t>& samples, std::int64_t length) {
  const at::Tensor i = at::tensor(samples, at::kLong);
  c10::impl::GenericDict nested(c10::StringType::get(), c10::AnyType::get());
  nested.insert("score", i.to(at::kFloat) * 10);
  c10::impl::GenericDict file(c10::StringType::get(), c10::AnyType::get());
  file.insert("emb", i.to(at::kFloat).unsqueeze(1).expand({-1, 3}).contiguous());
  file.insert("tokens", (i + 1).unsqueeze(1).expand({-1, length}).contiguous());
  file.insert("nested", nested);
  file.insert("batch_idx", at::tensor({std::int64_t{0}}));
  file.insert("batch_indices", i);
  save_pickled(file, path);
}

}  // namespace

TEST_CASE("collect merges nested predictions of several ranks in dataset order, padding sequences") {
  TempDir dir;
  std::filesystem::create_directories(dir / "in" / "subdir_0");
  write_predictions(dir / "in" / "subdir_0" / "predictions__rank_0__batch_0.pt", {4, 0}, 2);
  write_predictions(dir / "in" / "predictions__rank_0__batch_1.pt", {2}, 3);
  write_predictions(dir / "in" / "predictions__rank_1.pt", {1, 3}, 1);  // an epoch file
  const CollectSummary summary = collect_predictions(dir / "in", dir / "all.pt");
  CHECK(summary.samples == 5);
  CHECK(summary.files == 3);
  CHECK(summary.ranks == 2);

  const auto all = load_pickled(dir / "all.pt").toGenericDict();
  CHECK(at::equal(all.at("batch_indices").toTensor(), at::arange(5)));
  CHECK(at::equal(all.at("emb").toTensor(), at::arange(5).to(at::kFloat).unsqueeze(1).expand({-1, 3})));
  CHECK(at::equal(all.at("nested").toGenericDict().at("score").toTensor(), at::arange(5).to(at::kFloat) * 10));
  // Each row keeps its own length; shorter ones are padded with zeros to the longest (3).
  const at::Tensor tokens = all.at("tokens").toTensor();
  CHECK((tokens.sizes() == at::IntArrayRef({5, 3})));
  CHECK(at::equal(tokens[0], at::tensor(std::vector<std::int64_t>{1, 1, 0})));  // sample 0: length 2
  CHECK(at::equal(tokens[2], at::tensor(std::vector<std::int64_t>{3, 3, 3})));  // sample 2: length 3
  CHECK(at::equal(tokens[3], at::tensor(std::vector<std::int64_t>{4, 0, 0})));  // sample 3: length 1
}

TEST_CASE("collect refuses what is not prediction files, and an empty directory") {
  TempDir dir;
  std::filesystem::create_directories(dir / "empty");
  CHECK_THROWS_WITH_AS(collect_predictions(dir / "empty", dir / "x.pt"), doctest::Contains("no prediction files"), DataError);
  CHECK_THROWS_WITH_AS(collect_predictions(dir / "missing", dir / "x.pt"), doctest::Contains("not a directory"), DataError);
  save_pickled(at::ones({2}), dir / "empty" / "predictions__rank_0.pt");
  CHECK_THROWS_WITH_AS(collect_predictions(dir / "empty", dir / "x.pt"),
                       doctest::Contains("not a prediction file (a dict with batch_indices)"), DataError);
  CHECK_FALSE(std::filesystem::exists(dir / "x.pt"));
}
