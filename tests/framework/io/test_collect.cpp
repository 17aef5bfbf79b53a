// collect: every rank's prediction files in one, in dataset order.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <fstream>

#include "minitrain/io/collect.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/prediction_manifest.hpp"
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

TEST_CASE("collect puts the sample IDs in dataset order, and refuses files of which only some have IDs") {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  auto with_ids = [&](const std::string& name, const std::vector<std::int64_t>& samples) {
    write_predictions(dir / "in" / name, samples, 1);
    auto file = load_pickled(dir / "in" / name).toGenericDict();
    c10::impl::GenericList ids(c10::StringType::get());
    for (const std::int64_t sample : samples) ids.push_back("P" + std::to_string(sample));
    file.insert("ids", ids);
    save_pickled(file, dir / "in" / name);
  };
  with_ids("predictions__rank_0.pt", {2, 0});
  with_ids("predictions__rank_1.pt", {1});
  collect_predictions(dir / "in", dir / "all.pt");
  const c10::IValue all = load_pickled(dir / "all.pt");
  std::vector<std::string> ids;
  for (const c10::IValue& id : all.toGenericDict().at("ids").toListRef()) ids.push_back(id.toStringRef());
  CHECK(ids == std::vector<std::string>{"P0", "P1", "P2"});

  write_predictions(dir / "in" / "predictions__rank_2.pt", {3}, 1);
  CHECK_THROWS_WITH_AS(collect_predictions(dir / "in", dir / "x.pt"),
                       doctest::Contains("predictions__rank_1.pt has sample IDs ('ids') but predictions__rank_2.pt has none"),
                       DataError);
  CHECK_FALSE(std::filesystem::exists(dir / "x.pt"));
}

TEST_CASE("a file changed after its run is refused by the manifest's check, which runs beside the merge, before the output is named") {
  for (const char* output : {"all.pt", "all.safetensors", "all.h5"}) {
    CAPTURE(output);
    TempDir dir;
    const std::filesystem::path in = dir / "in";
    std::filesystem::create_directories(in);
    Manifest manifest{"test", "", "", "", "", 1, {}};
    for (const std::int64_t batch : {0, 1}) {
      const std::filesystem::path file = in / fmt::format("predictions__rank_0__batch_{}.pt", batch);
      write_predictions(file, {2 * batch, 2 * batch + 1}, 2);
      manifest.files.push_back(describe_prediction_file(in, file, "batch", 0, {batch}, {2 * batch, 2 * batch + 1},
                                                        load_pickled(file)));
    }
    write_manifest(manifest, in);
    CHECK(collect_predictions(in, dir / output).samples == 4);
    std::filesystem::remove(dir / output);
    // One byte of a tensor's data changed in place: the files still merge, so only the check can tell.
    const std::filesystem::path changed = in / "predictions__rank_0__batch_1.pt";
    {
      std::fstream bytes(changed, std::ios::in | std::ios::out | std::ios::binary);
      bytes.seekp(64 * 3);
      bytes.put('\x7f');
    }
    CHECK(load_pickled(changed).isGenericDict());
    CHECK_THROWS_WITH_AS(collect_predictions(in, dir / output),
                         doctest::Contains((changed.string() + ": error: manifest.json lists it with").c_str()), DataError);
    CHECK_FALSE(std::filesystem::exists(dir / output));
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) CHECK(entry.path().filename() == "in");
  }
}
