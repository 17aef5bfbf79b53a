// A torch.save file's structure without its data: read_zip_directory,
// PickledLayout and load_prediction_layout.
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <fstream>

#include "minitrain/base/error.hpp"
#include "minitrain/io/collect.hpp"
#include "minitrain/io/pickled_layout.hpp"
#include "minitrain/io/prediction_file.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/io/torch_archive.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;

TEST_CASE("read_zip_directory finds every record where LibTorch's reader does, zip64 archives included") {
  TempDir dir;
  for (const bool zip64 : {false, true}) {
    CAPTURE(zip64);
    const auto path = dir / (zip64 ? "big.pt" : "small.pt");
    {
      TorchArchiveWriter archive(path, TorchArchiveWriter::Options{.force_zip64 = zip64});
      archive.write_record("data/0", std::string(1000, 'a').data(), 1000);
      archive.write_record("data/1", std::string(5, 'b').data(), 5);
      archive.write_record("data.pkl", "x", 1);
      archive.write_record("version", "3\n", 2);
      archive.finish();
    }
    const auto records = read_zip_directory(path);
    caffe2::serialize::PyTorchStreamReader reader(path.string());
    for (const auto& [name, size] : std::vector<std::pair<std::string, std::uint64_t>>{{"data/0", 1000}, {"data/1", 5}, {"data.pkl", 1}}) {
      const ZipRecord& record = records.at("archive/" + name);
      CHECK(record.data_offset == reader.getRecordOffset(name));
      CHECK(record.size == size);
      CHECK(record.stored);
    }
  }
  std::ofstream(dir / "not_zip.pt") << "plain text";
  CHECK_THROWS_WITH_AS(read_zip_directory(dir / "not_zip.pt"), doctest::Contains("no zip end-of-directory record"), DataError);
}

TEST_CASE("a prediction file's layout has its shapes and offsets, and only the data asked for") {
  TempDir dir;
  c10::impl::GenericDict file(c10::StringType::get(), c10::AnyType::get());
  file.insert("hidden", at::rand({64, 100, 32}) + 1);
  file.insert("lengths_offsets", at::tensor(std::vector<std::int64_t>{0, 3, 7}));
  file.insert("batch_indices", at::tensor(std::vector<std::int64_t>{5, 9}));
  for (const char* name : {"predictions__rank_0__batch_0.pt", "predictions__rank_0__batch_0.safetensors"}) {
    CAPTURE(name);
    std::vector<std::uint64_t> offsets;
    save_prediction_file(file, dir / name, parse_prediction_file_name(name)->format);
    const auto loaded = load_prediction_file(dir / name, &offsets);
    const PredictionLayout layout = load_prediction_layout(dir / name, [](const std::string& key) { return key == "lengths_offsets"; });
    REQUIRE(layout.tensor_offsets.size() == offsets.size());
    for (std::size_t i = 0; i < offsets.size(); ++i) CHECK(layout.tensor_offsets[i] == std::optional<std::uint64_t>(offsets[i]));
    CHECK(at::equal(layout.dict.at("batch_indices").toTensor(), file.at("batch_indices").toTensor()));
    CHECK(at::equal(layout.dict.at("lengths_offsets").toTensor(), file.at("lengths_offsets").toTensor()));
    const at::Tensor hidden = layout.dict.at("hidden").toTensor();
    CHECK((hidden.sizes() == at::IntArrayRef({64, 100, 32})));
    CHECK(hidden.abs().sum().item<float>() == 0);  // not read: the file holds values >= 1
    CHECK(at::equal(loaded.at("hidden").toTensor(), file.at("hidden").toTensor()));
  }
}

TEST_CASE("collect copies rows of tensors Python stored as views: transposed, strided, or offset into their storage") {
  TempDir dir;
  std::filesystem::create_directories(dir / "in");
  REQUIRE(testing::run_python(dir.path(), R"(import torch
base = torch.arange(40.).reshape(4, 10)
for rank, rows in ((0, [0, 2]), (1, [1, 3])):
    torch.save({"t": base[rows].t().contiguous().t(),                # column-major
                "cols": torch.arange(20.).reshape(2, 10)[:, 2:7],    # rows 10 apart, 2 into the storage
                "tail": torch.arange(30.).reshape(3, 10)[1:],        # contiguous, 10 into the storage
                "batch_indices": torch.tensor(rows)}, f"in/predictions__rank_{rank}.pt")
)") == 0);
  collect_predictions(dir / "in", dir / "all.pt");
  const auto all = load_pickled(dir / "all.pt").toGenericDict();
  CHECK(at::equal(all.at("t").toTensor(), at::arange(40, at::kFloat).reshape({4, 10})));
  // Dataset order takes rank 0's first row, rank 1's first, rank 0's second, rank 1's second.
  const at::Tensor cols = at::arange(20, at::kFloat).reshape({2, 10}).narrow(1, 2, 5);
  CHECK(at::equal(all.at("cols").toTensor(), at::stack({cols[0], cols[0], cols[1], cols[1]})));
  const at::Tensor tail = at::arange(30, at::kFloat).reshape({3, 10}).narrow(0, 1, 2);
  CHECK(at::equal(all.at("tail").toTensor(), at::stack({tail[0], tail[0], tail[1], tail[1]})));
}
