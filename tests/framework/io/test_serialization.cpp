#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "minitrain/io/checkpoint.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/pickle_repair.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/io/torch_archive.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

TEST_CASE("save_pickled round-trips nested dicts, lists and tensors of several dtypes") {
  TempDir dir;
  c10::impl::GenericDict inner(c10::StringType::get(), c10::AnyType::get());
  inner.insert("ids", at::arange(6, at::kLong).reshape({2, 3}));
  c10::impl::GenericDict value(c10::StringType::get(), c10::AnyType::get());
  value.insert("x", at::rand({4, 5}));
  value.insert("half", at::ones({3}, at::kHalf));
  value.insert("mask", at::ones({2}, at::kBool));
  value.insert("inner", inner);
  c10::impl::GenericList list(c10::AnyType::get());
  list.push_back(at::zeros({1}));
  value.insert("list", list);
  save_pickled(value, dir / "a.pt");

  const auto loaded = load_pickled(dir / "a.pt").toGenericDict();
  CHECK(loaded.size() == 5);
  CHECK(at::equal(loaded.at("x").toTensor(), value.at("x").toTensor()));
  CHECK((loaded.at("half").toTensor().scalar_type() == at::kHalf));
  CHECK((loaded.at("mask").toTensor().scalar_type() == at::kBool));
  CHECK(at::equal(loaded.at("inner").toGenericDict().at("ids").toTensor(), inner.at("ids").toTensor()));
  CHECK(loaded.at("list").toList().size() == 1);
  // Only the final file is left: the temporary it was written through is gone.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("a one-key dict round-trips") {
  TempDir dir;
  c10::Dict<std::string, at::Tensor> value;
  value.insert("only", at::ones({2}));
  save_pickled(value, dir / "one.pt");
  CHECK(at::equal(load_pickled(dir / "one.pt").toGenericDict().at("only").toTensor(), at::ones({2})));
}

TEST_CASE("a small view of a big tensor is written as its own bytes only") {
  TempDir dir;
  const at::Tensor big = at::rand({1024, 1024});  // 4 MiB
  const at::Tensor view = big.slice(0, 10, 12);
  save_pickled(compact_cpu(view), dir / "view.pt");
  CHECK(fs::file_size(dir / "view.pt") < 64 * 1024);
  CHECK(at::equal(load_pickled(dir / "view.pt").toTensor(), view));
  const at::Tensor transposed = at::rand({3, 4}).t();
  CHECK(compact_cpu(transposed).is_contiguous());
}

TEST_CASE("a failed save throws and leaves nothing behind") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(save_pickled(at::ones({2}), dir / "missing" / "x.pt"), doctest::Contains("cannot create"), Error);
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("load_pickled rejects what is not a torch.save file") {
  TempDir dir;
  minitrain::testing::write_file(dir / "junk.pt", "not a zip archive");
  CHECK_THROWS_WITH_AS(load_pickled(dir / "junk.pt"), doctest::Contains("not a readable torch.save file"), DataError);
  CHECK_THROWS_WITH_AS(load_pickled(dir / "none.pt"), doctest::Contains("no such file"), DataError);
}

TEST_CASE("weights save as {name: tensor} and load back; a mismatch names the entries") {
  TempDir dir;
  torch::nn::Linear source(3, 2), target(3, 2), other(4, 2);
  save_weights(*source, dir / "w.pt");
  load_weights(*target, dir / "w.pt");
  CHECK(at::equal(source->weight, target->weight));
  CHECK(at::equal(source->bias, target->bias));
  CHECK_THROWS_WITH_AS(load_weights(*other, dir / "w.pt"), doctest::Contains("wrong shape: weight (file [2, 3], model [2, 4])"), DataError);
}

TEST_CASE("a corrupt pickle program is refused before the unpickler trusts its lengths") {
  auto refusal = [](const std::string& program) {
    try {
      repair_pickle(std::span(program.data(), program.size()));
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  using namespace std::string_literals;
  // PROTO 2, BINUNICODE claiming 2^32-1 bytes.
  CHECK(refusal("\x80\x02X\xff\xff\xff\xff"s + "ab."s) ==
        "corrupt pickle program (data.pkl), at byte 2 of 10: opcode 0x58 has a 4294967295-byte argument, but only 3 byte(s) follow");
  // BINUNICODE8 claiming 2^64-1 bytes: no overflow past the end.
  CHECK(refusal("\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff"s + "ab."s).find("has a 18446744073709551615-byte argument") !=
        std::string::npos);
  CHECK(refusal("\x80\x02}r\x00\x00\x00\x10."s) == "corrupt pickle program (data.pkl), at byte 3 of 9: memo index 268435456 in a program of 9 bytes");
  CHECK(refusal("\x80\x02s."s) == "corrupt pickle program (data.pkl), at byte 2 of 4: opcode 0x73 needs more items than the stack holds");
  // BUILD applies the state on top to the object below it: a lone dict has nothing below.
  CHECK(refusal("\x80\x02}b."s) == "corrupt pickle program (data.pkl), at byte 3 of 5: opcode 0x62 needs more items than the stack holds");
  CHECK(refusal("\x80\x02}"s) == "corrupt pickle program (data.pkl), at byte 3 of 3: the program ends without STOP");
  CHECK(refusal("\x80\x02}."s) == "accepted");
  CHECK(refusal("\x80\x02\x95."s) ==
        "corrupt pickle program (data.pkl), at byte 2 of 4: opcode 0x95 is not one that torch.save writes (pickle protocol 2)");

  // Through load_pickled, the refusal names the file.
  TempDir dir;
  const fs::path file = dir / "corrupt.pt";
  {
    TorchArchiveWriter archive(file);
    const std::string program = "\x80\x02X\xff\xff\xff\xff"s + "ab."s;
    archive.write_record("data.pkl", program.data(), program.size());
    archive.write_record("version", "3\n", 2);
    archive.finish();
  }
  CHECK_THROWS_WITH_AS(load_pickled(file),
                       (file.string() + ": error: not a readable torch.save file: corrupt pickle program (data.pkl), at byte 2 of "
                                        "10: opcode 0x58 has a 4294967295-byte argument, but only 3 byte(s) follow").c_str(),
                       DataError);
}
