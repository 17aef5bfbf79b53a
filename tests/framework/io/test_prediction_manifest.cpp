// The prediction manifest: what it says of a file, written and read back.
#include <ATen/ATen.h>

#include "minitrain/base/error.hpp"
#include "minitrain/io/prediction_ids.hpp"
#include "minitrain/io/prediction_manifest.hpp"
#include "minitrain/io/serialization.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
using minitrain::testing::write_file;

TEST_CASE("a file is described by its tensors, rows, indices, size and CRC-32, and survives JSON both ways") {
  TempDir dir;
  c10::impl::GenericDict nested(c10::StringType::get(), c10::AnyType::get());
  nested.insert("score", at::zeros({3}, at::kHalf));
  c10::impl::GenericDict contents(c10::StringType::get(), c10::AnyType::get());
  contents.insert("embeddings", at::ones({3, 4}));
  contents.insert("nested", nested);
  contents.insert("pair", c10::ivalue::Tuple::create({at::zeros({3}, at::kLong), at::zeros({3, 2}, at::kBool)}));
  contents.insert("ids", ids_value({"a", "b", "c"}));
  std::filesystem::create_directories(dir / "out" / "subdir_0");
  const auto file = dir / "out" / "subdir_0" / "predictions__rank_1__batch_4.pt";
  save_pickled(contents, file);

  const std::vector<std::int64_t> indices{0, 2, 4, 6, 7, 8, 20};
  const ManifestFile described = describe_prediction_file(dir / "out", file, "batch", 1, {4}, indices, contents);
  CHECK(described.path == "subdir_0/predictions__rank_1__batch_4.pt");
  CHECK(described.bytes == std::filesystem::file_size(file));
  CHECK(described.crc32 == file_crc32(file));
  REQUIRE(described.tensors.size() == 5);
  CHECK(described.tensors[0].key == "embeddings");
  CHECK(described.tensors[0].shape == std::vector<std::int64_t>{3, 4});
  CHECK(described.tensors[0].dtype == "float32");
  CHECK(described.tensors[1].key == "nested.score");
  CHECK(described.tensors[1].dtype == "float16");
  CHECK(described.tensors[2].key == "pair.0");
  CHECK(described.tensors[3].dtype == "bool");
  CHECK(described.tensors[4].key == "ids");
  CHECK(described.tensors[4].dtype == "str");

  const std::string json = files_to_json({described});
  CHECK(json.find(R"("indices":[[0,2,4],[7,1,2],[20,1,1]])") != std::string::npos);  // runs: start, step, count
  const std::vector<ManifestFile> back = files_from_json(json);
  REQUIRE(back.size() == 1);
  CHECK(back[0].indices == indices);
  CHECK(back[0].crc32 == described.crc32);
  CHECK(back[0].tensors[1].shape == std::vector<std::int64_t>{3});

  write_manifest({"0.1.0", "ab", "torchscript", "m.pt", "cd", 2, back}, dir / "out");
  const std::optional<Manifest> read = read_manifest(dir / "out");
  REQUIRE(read);
  CHECK(read->world_size == 2);
  CHECK(read->weights_file == "m.pt");
  REQUIRE(read->files.size() == 1);
  CHECK(read->files[0].batches == std::vector<std::int64_t>{4});
  CHECK_FALSE(read_manifest(dir.path()));  // none there
}

TEST_CASE("a manifest that cannot be read is an error naming it, with the fix") {
  TempDir dir;
  const std::string path = write_file(dir / "manifest.json", R"({"format": "minitrain-predictions", "format_version": 1})").string();
  CHECK_THROWS_WITH_AS(read_manifest(dir.path()), doctest::Contains((path + ": error: not a readable manifest: ").c_str()), DataError);
  write_file(dir / "manifest.json", R"({"format": "minitrain-predictions", "format_version": 99})");
  CHECK_THROWS_WITH_AS(read_manifest(dir.path()), doctest::Contains("not a minitrain prediction manifest of format version 1 or older"),
                       DataError);
  write_file(dir / "manifest.json", "{not json");
  CHECK_THROWS_WITH_AS(read_manifest(dir.path()), doctest::Contains("fix: remove it and write the predictions again"), DataError);
}
