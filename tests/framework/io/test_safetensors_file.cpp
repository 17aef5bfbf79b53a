// safetensors files written and read back, and the malformed ones a reader
// must refuse by name before touching any data.
#include <ATen/ATen.h>

#include <fstream>

#include "minitrain/base/error.hpp"
#include "minitrain/io/safetensors_file.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// A file holding `header` as its JSON and `data` after it.
fs::path raw_file(const TempDir& dir, const std::string& header, const std::string& data, std::uint64_t claimed_length = 0) {
  static int made = 0;
  const fs::path path = dir / ("raw" + std::to_string(made++) + ".safetensors");
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t length = claimed_length ? claimed_length : header.size();
  for (int b = 0; b < 8; ++b) out.put(static_cast<char>((length >> (8 * b)) & 0xff));
  out << header << data;
  return path;
}

}  // namespace

TEST_CASE("safetensors files round-trip, strided and empty tensors included") {
  TempDir dir;
  const at::Tensor wide = at::arange(12, at::kDouble).view({3, 4}).t();  // not contiguous
  const at::Tensor empty = at::empty({0, 5}, at::kHalf);
  const std::vector<std::uint64_t> offsets =
      save_safetensors({{"wide", wide}, {"empty", empty}, {"flag", at::ones({2}, at::kBool)}}, {{"k", "v"}}, dir / "a.safetensors");
  const SafetensorsContents contents = read_safetensors_header(dir / "a.safetensors");
  CHECK(contents.metadata == std::map<std::string, std::string>{{"k", "v"}});
  REQUIRE(contents.entries.size() == 3);
  CHECK(contents.entries[0].tensor.name == "wide");
  CHECK(contents.entries[0].offset == offsets[0]);
  CHECK(at::equal(read_safetensors_tensor(dir / "a.safetensors", contents.entries[0]), wide));
  for (const SafetensorsEntry& entry : contents.entries)
    if (entry.tensor.name == "empty") CHECK(read_safetensors_tensor(dir / "a.safetensors", entry).sizes() == at::IntArrayRef({0, 5}));
}

TEST_CASE("a streamer that gives the wrong number of bytes is an error, and leaves no file") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(write_safetensors({{"x", at::kFloat, {4}}}, {}, dir / "b.safetensors", {},
                                         [](std::size_t, ByteSink& out) { out.append_zeros(12); }),
                       doctest::Contains("'x' was given 12 bytes, not the 16 its shape holds"), Error);
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("malformed safetensors files are refused with what is wrong") {
  TempDir dir;
  const std::string f32 = R"("x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
  const std::vector<std::pair<fs::path, std::string>> cases{
      {raw_file(dir, "{" + f32 + "}", std::string(8, '\0'), 1000), "its header length 1000 runs past the file's"},
      {raw_file(dir, "[1, 2]", ""), "its header is not a JSON object"},
      {raw_file(dir, "{\"x\": ", ""), "its header is not JSON"},
      {raw_file(dir, R"({"x": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}})", std::string(8, '\0')),
       "'x' has the dtype 'C64', which the format does not define"},
      {raw_file(dir, R"({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", std::string(8, '\0')),
       "'x' spans 8 bytes, but its shape and dtype need 12"},
      {raw_file(dir, R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", std::string(12, '\0')),
       "'x' does not start where the tensor before it ends"},
      {raw_file(dir, "{" + f32 + "}", std::string(9, '\0')), "its tensors end at byte"},
      {raw_file(dir, R"({"x": {"dtype": "F32", "shape": [2]}})", ""), "its header is not the format's"},
      {raw_file(dir, R"({"__metadata__": {"n": 1}})", ""), "__metadata__ 'n' is not a string"},
      {raw_file(dir, R"({"x": {"dtype": "U8", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 1]}})",
                std::string(1, '\0')),
       "'x' spans 1 bytes, but its shape and dtype need 18446744073709551615"},
  };
  for (const auto& [path, expected] : cases) {
    CAPTURE(expected);
    CHECK_THROWS_WITH_AS(read_safetensors_header(path), doctest::Contains(expected.c_str()), DataError);
  }
  std::ofstream(dir / "short.safetensors") << "abc";
  CHECK_THROWS_WITH_AS(read_safetensors_header(dir / "short.safetensors"), doctest::Contains("shorter than 8 bytes"), DataError);
}
