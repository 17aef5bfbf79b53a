#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cstdlib>

#include "minitrain/io/collate.hpp"
#include "epoch_assembly.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/prediction_file.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/io/torch_archive.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// True when both values have the same structure and equal tensors (dtype included).
bool same(const c10::IValue& a, const c10::IValue& b) {
  if (a.isTensor() && b.isTensor())
    return a.toTensor().scalar_type() == b.toTensor().scalar_type() && a.toTensor().sizes() == b.toTensor().sizes() &&
           at::equal(a.toTensor(), b.toTensor());
  if (a.isGenericDict() && b.isGenericDict()) {
    const auto x = a.toGenericDict(), y = b.toGenericDict();
    if (x.size() != y.size()) return false;
    for (const auto& e : x) {
      if (!y.contains(e.key()) || !same(e.value(), y.at(e.key()))) return false;
    }
    return true;
  }
  if ((a.isList() || a.isTuple()) && (b.isList() || b.isTuple())) {
    const auto x = a.isList() ? a.toList().vec() : a.toTupleRef().elements().vec();
    const auto y = b.isList() ? b.toList().vec() : b.toTupleRef().elements().vec();
    if (x.size() != y.size() || a.isTuple() != b.isTuple()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same(x[i], y[i])) return false;
    }
    return true;
  }
  return a.isNone() && b.isNone();
}

c10::impl::GenericDict batch(std::int64_t rows, std::int64_t length, std::int64_t seed) {
  at::manual_seed(static_cast<std::uint64_t>(seed));
  c10::impl::GenericDict inner(c10::StringType::get(), c10::AnyType::get());
  inner.insert("mask", at::rand({rows, length}).gt(0.5));
  c10::impl::GenericList list(c10::AnyType::get());
  list.push_back(at::randn({rows, 3}));
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("token_logits", at::randn({rows, length, 5}));
  d.insert("input_ids", at::randint(1, 30, {rows, length}, at::kLong));
  d.insert(kBatchIndicesKey, at::arange(seed * 100, seed * 100 + rows, at::kLong));
  d.insert("megatron", at::randn({length, rows, 2}));  // [S, B, H]
  d.insert("score", at::randn({rows}));
  d.insert("loss", at::scalar_tensor(static_cast<double>(seed)));
  d.insert("inner", inner);
  d.insert("list", list);
  d.insert("pair", c10::ivalue::Tuple::create({at::randn({rows, length}).to(at::kHalf), at::arange(rows)}));
  return d;
}

struct Written {
  std::vector<c10::IValue> values;
  std::vector<WrittenBatch> fresh;   // described from save_pickled's offsets
  std::vector<WrittenBatch> reread;  // described by reading the files back
};

Written write_batches(const TempDir& dir, const std::vector<std::pair<std::int64_t, std::int64_t>>& shapes) {
  Written out;
  for (std::size_t b = 0; b < shapes.size(); ++b) {
    const c10::IValue value = batch(shapes[b].first, shapes[b].second, static_cast<std::int64_t>(b));
    const fs::path file = dir / fmt::format("b{}.pt", b);
    out.fresh.push_back(describe_written(value, file, save_pickled(value, file)));
    out.reread.push_back(read_written_batch(file));
    out.values.push_back(value);
  }
  return out;
}

}  // namespace

TEST_CASE("a streamed epoch file equals batch_collator in memory, value for value") {
  TempDir dir;
  CollateOptions options;
  options.batch_dim_key_defaults = {{"megatron", 1}};
  options.seq_dim_key_defaults = {{"megatron", 0}};
  const Written written = write_batches(dir, {{3, 7}, {2, 4}, {4, 9}, {1, 9}});
  const c10::IValue expected = batch_collator(written.values, options);

  assemble_epoch_file(written.fresh, options, dir / "epoch.pt");
  const c10::IValue streamed = load_pickled(dir / "epoch.pt");
  CHECK(same(streamed, expected));
  CHECK(streamed.toGenericDict().at("token_logits").toTensor().sizes() == at::IntArrayRef({10, 9, 5}));
  CHECK(streamed.toGenericDict().at("megatron").toTensor().sizes() == at::IntArrayRef({9, 10, 2}));

  assemble_epoch_file(written.reread, options, dir / "epoch_reread.pt");
  CHECK(same(load_pickled(dir / "epoch_reread.pt"), expected));
}

TEST_CASE("a streamed safetensors epoch file equals batch_collator of the flattened batches") {
  TempDir dir;
  std::vector<c10::IValue> flat;
  std::vector<WrittenBatch> written;
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{3, 7}, {2, 4}, {1, 9}};
  for (std::size_t b = 0; b < shapes.size(); ++b) {
    const c10::impl::GenericDict value = flat_prediction_tensors(batch(shapes[b].first, shapes[b].second, static_cast<std::int64_t>(b)));
    const fs::path file = dir / fmt::format("predictions__rank_0__batch_{}.safetensors", b);
    written.push_back(describe_written(value, file, save_prediction_file(value, file, PredictionFormat::safetensors)));
    CHECK(read_written_batch(file).skeleton.toGenericDict().at("inner.mask").toTensor().sizes() ==
          value.at("inner.mask").toTensor().sizes());
    flat.push_back(value);
  }
  const fs::path epoch = dir / "predictions__rank_0.safetensors";
  assemble_epoch_file(written, {}, epoch, PredictionFormat::safetensors);
  const c10::impl::GenericDict loaded = load_prediction_file(epoch);
  CHECK(same(loaded, batch_collator(flat)));
  CHECK(loaded.at("token_logits").toTensor().sizes() == at::IntArrayRef({6, 9, 5}));
  CHECK(loaded.contains("pair.1"));
  // A string in the prediction has no place in a safetensors file, and is refused by name.
  c10::impl::GenericDict with_text = batch(1, 2, 0);
  with_text.insert("note", std::string("text"));
  CHECK_THROWS_WITH_AS(flat_prediction_tensors(with_text), doctest::Contains("'note' is a String"), Error);
}

TEST_CASE("plan_collation gives batch_collator's shapes and refuses what it refuses") {
  const std::vector<c10::IValue> batches{batch(2, 3, 0), batch(3, 5, 1)};
  const CollationPlan plan = plan_collation(batches);
  const c10::IValue collated = batch_collator(batches);
  std::size_t checked = 0;
  for (const CollatedTensor& t : plan.tensors) {
    if (t.where == "token_logits") {
      CHECK(t.sizes == collated.toGenericDict().at("token_logits").toTensor().sizes().vec());
      CHECK(t.seq_dim == 1);
      ++checked;
    }
    if (t.where == "loss") {
      CHECK(t.sizes == std::vector<std::int64_t>{2});
      CHECK_FALSE(t.seq_dim.has_value());
      ++checked;
    }
  }
  CHECK(checked == 2);
  CHECK_THROWS_WITH_AS(plan_collation({at::ones({2}), at::ones({2}, at::kLong)}), doctest::Contains("cast them to one dtype"), Error);
  CHECK_THROWS_AS(plan_collation({}), Error);
}

TEST_CASE("nested keys inherit their parent's per-key dims, as BioNeMo's batch_collator does") {
  CollateOptions options;
  options.batch_dim_key_defaults = {{"outer", 1}};
  options.seq_dim_key_defaults = {{"outer", 0}};
  auto make = [](std::int64_t rows) {
    c10::impl::GenericDict inner(c10::StringType::get(), c10::AnyType::get());
    inner.insert("x", at::ones({4, rows}));
    c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
    d.insert("outer", inner);
    return d;
  };
  const c10::IValue out = batch_collator({make(2), make(3)}, options);
  CHECK(out.toGenericDict().at("outer").toGenericDict().at("x").toTensor().sizes() == at::IntArrayRef({4, 5}));
}

TEST_CASE("zip64 archives load in C++ and pass Python's zipfile check") {
  TempDir dir;
  const at::Tensor data = at::arange(1000, at::kFloat);
  {
    const Pickled pickled = pickle_value(data);
    TorchArchiveWriter archive(dir / "z.pt", {.force_zip64 = true});
    archive.write_record("data.pkl", pickled.program.data(), pickled.program.size());
    archive.write_record("data/0", pickled.storages[0].storage().data(), pickled.storages[0].storage().nbytes());
    archive.write_record("version", "3\n", 2);
    archive.finish();
  }
  CHECK(at::equal(load_pickled(dir / "z.pt").toTensor(), data));
  const std::string command = fmt::format(
      "{} -c \"import torch, zipfile; z = zipfile.ZipFile('{}'); assert z.testzip() is None; "
      "assert torch.equal(torch.load('{}'), torch.arange(1000, dtype=torch.float32))\"",
      MINITRAIN_PYTHON, (dir / "z.pt").string(), (dir / "z.pt").string());
  CHECK(std::system(command.c_str()) == 0);
}
