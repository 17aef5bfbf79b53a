#include <ATen/ATen.h>
#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "direct_epoch.hpp"
#include "epoch_assembly.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/collate.hpp"
#include "minitrain/io/prediction_file.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/prediction_ids.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// A batch as the writer hands it over: flat outputs, its batch_idx, rows' indices and IDs.
c10::impl::GenericDict direct_batch(std::int64_t batch_idx, std::int64_t first_row, std::int64_t rows, std::int64_t width) {
  at::manual_seed(static_cast<std::uint64_t>(batch_idx));
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("embeddings", at::randn({rows, 8}));
  d.insert("token_logits", at::randn({rows, width, 5}));
  d.insert("input_ids", at::randint(1, 30, {rows, width}, at::kLong));
  d.insert(kBatchIdxKey, at::tensor(std::vector<std::int64_t>{batch_idx}, at::kLong));
  d.insert(kBatchIndicesKey, at::arange(first_row, first_row + rows, at::kLong));
  std::vector<std::string> ids;
  for (std::int64_t r = first_row; r < first_row + rows; ++r) ids.push_back(fmt::format("seq{}", r));
  d.insert(kIdsKey, ids_value(ids));
  return d;
}

std::vector<c10::impl::GenericDict> direct_batches(const std::vector<std::pair<std::int64_t, std::int64_t>>& rows_and_widths) {
  std::vector<c10::impl::GenericDict> batches;
  std::int64_t first_row = 0;
  for (const auto& [rows, width] : rows_and_widths) {
    batches.push_back(direct_batch(static_cast<std::int64_t>(batches.size()), first_row, rows, width));
    first_row += rows;
  }
  return batches;
}

std::string bytes_in(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The epoch file the assembly writes from the same batches' files, as the reference.
fs::path assembled_epoch(const TempDir& dir, const std::vector<c10::impl::GenericDict>& batches, PredictionFormat format) {
  std::vector<WrittenBatch> written;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const fs::path file = batch_file(dir / "batches", 0, static_cast<std::int64_t>(b), std::nullopt, format);
    fs::create_directories(file.parent_path());
    written.push_back(describe_written(batches[b], file, save_prediction_file(batches[b], file, format)));
  }
  const fs::path path = epoch_file(dir / "assembled", 0, format);
  fs::create_directories(path.parent_path());
  assemble_epoch_file(written, CollateOptions{}, path, format);
  return path;
}

void check_collated(const fs::path& path, const std::vector<c10::impl::GenericDict>& batches) {
  std::vector<c10::IValue> without_ids;
  for (const auto& batch : batches) {
    c10::impl::GenericDict copy = batch.copy();
    static_cast<void>(copy.erase(kIdsKey));
    without_ids.push_back(copy);
  }
  const c10::impl::GenericDict expected = batch_collator(without_ids).toGenericDict();
  const c10::impl::GenericDict loaded = load_prediction_file(path);
  for (const auto& entry : expected) {
    INFO(entry.key().toStringRef());
    CHECK(at::equal(loaded.at(entry.key()).toTensor(), entry.value().toTensor()));
  }
  std::int64_t rows = 0;
  for (const auto& batch : batches) rows += batch.at(kBatchIndicesKey).toTensor().numel();
  const auto ids = loaded.at(kIdsKey).toListRef();
  REQUIRE(static_cast<std::int64_t>(ids.size()) == rows);
  CHECK(ids.back().toStringRef() == fmt::format("seq{}", rows - 1));
}

}  // namespace

TEST_CASE("an epoch file written as its batches arrive equals the assembled one, byte for byte, in both formats") {
  for (const PredictionFormat format : {PredictionFormat::pt, PredictionFormat::safetensors}) {
    CAPTURE(static_cast<int>(format));
    TempDir dir;
    // The last batch is shorter and narrower: its rows are padded in place, as the collator pads them.
    const auto batches = direct_batches({{4, 6}, {4, 6}, {3, 4}});
    const fs::path path = epoch_file(dir.path(), 0, format);
    auto direct = DirectEpochFile::start(batches[0], 11, 3, CollateOptions{}, path, format, SaveOptions{});
    REQUIRE(direct != nullptr);
    direct->write(batches[0]);
    CHECK_FALSE(direct->complete());
    CHECK_THROWS_AS(direct->finish(), Error);  // rows missing: no file
    for (std::size_t b = 1; b < batches.size(); ++b) {
      REQUIRE(direct->admit(batches[b]));
      direct->write(batches[b]);
    }
    CHECK_FALSE(direct->admit(batches[1]));  // no room left
    REQUIRE(direct->complete());
    direct->finish();
    direct.reset();
    REQUIRE(fs::exists(path));
    CHECK_FALSE(fs::exists(temporary_path_for(path)));
    check_collated(path, batches);
    const fs::path assembled = assembled_epoch(dir, batches, format);
    CHECK(bytes_in(path) == bytes_in(assembled));
    if (format == PredictionFormat::safetensors) CHECK(bytes_in(ids_sidecar_of(path)) == bytes_in(ids_sidecar_of(assembled)));
  }
}

TEST_CASE("a batch wider than the first ends the direct file; its rows are then the assembly's first source") {
  for (const PredictionFormat format : {PredictionFormat::pt, PredictionFormat::safetensors}) {
    CAPTURE(static_cast<int>(format));
    TempDir dir;
    const auto batches = direct_batches({{4, 5}, {4, 5}, {4, 7}, {2, 3}});
    const fs::path path = epoch_file(dir.path(), 0, format);
    auto direct = DirectEpochFile::start(batches[0], 14, 4, CollateOptions{}, path, format, SaveOptions{});
    REQUIRE(direct != nullptr);
    direct->write(batches[0]);
    REQUIRE(direct->admit(batches[1]));
    direct->write(batches[1]);
    CHECK_FALSE(direct->admit(batches[2]));
    std::vector<WrittenBatch> sources{direct->release_as_source(dir / "spill" / "rows")};
    direct.reset();  // the source is no longer its file to remove
    REQUIRE(fs::exists(dir / "spill" / "rows"));
    CHECK_FALSE(fs::exists(temporary_path_for(path)));
    for (std::size_t b = 2; b < batches.size(); ++b) {
      const fs::path file = dir / fmt::format("spill/batch_{}.pt", b);
      sources.push_back(describe_written(batches[b], file, save_prediction_file(batches[b], file, PredictionFormat::pt)));
    }
    assemble_epoch_file(sources, CollateOptions{}, path, format);
    check_collated(path, batches);
    CHECK(bytes_in(path) == bytes_in(assembled_epoch(dir, batches, format)));
  }
}

TEST_CASE("no direct file where the first batch cannot show the epoch's layout; an unfinished one is removed") {
  TempDir dir;
  const fs::path path = epoch_file(dir.path(), 0, PredictionFormat::pt);
  c10::impl::GenericDict plain = direct_batch(0, 0, 4, 6);
  auto start = [&](const c10::impl::GenericDict& first, const CollateOptions& options = {}) {
    return DirectEpochFile::start(first, 12, 3, options, path, PredictionFormat::pt, SaveOptions{});
  };
  c10::impl::GenericDict nested = plain.copy();
  c10::impl::GenericDict inner(c10::StringType::get(), c10::AnyType::get());
  inner.insert("mask", at::ones({4, 6}));
  nested.insert("inner", inner);
  CHECK(start(nested) == nullptr);
  c10::impl::GenericDict scalar = plain.copy();
  scalar.insert("loss", at::scalar_tensor(1.0));
  CHECK(start(scalar) == nullptr);
  c10::impl::GenericDict not_rows = plain.copy();
  not_rows.insert("pairs", at::zeros({3, 2}));  // 3 entries for 4 rows
  CHECK(start(not_rows) == nullptr);
  CollateOptions sequence_first;
  sequence_first.batch_dim_key_defaults["token_logits"] = 1;
  CHECK(start(plain, sequence_first) == nullptr);
  CHECK_FALSE(fs::exists(temporary_path_for(path)));

  auto direct = start(plain);
  REQUIRE(direct != nullptr);
  direct->write(plain);
  CHECK(fs::exists(temporary_path_for(path)));
  c10::impl::GenericDict other_dtype = direct_batch(1, 4, 4, 6);
  other_dtype.insert_or_assign("embeddings", at::randn({4, 8}).to(at::kDouble));
  CHECK_FALSE(direct->admit(other_dtype));
  direct.reset();
  CHECK_FALSE(fs::exists(temporary_path_for(path)));
  CHECK_FALSE(fs::exists(path));
}
