// Rows copied from files into place: FileRanges, copy_padded_rows, emit_stored_rows.
#include <ATen/ATen.h>

#include <fstream>

#include "minitrain/base/error.hpp"
#include "minitrain/io/stored_rows.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;

namespace {

// `tensor`'s bytes written after `skip` bytes of something else; its place in the file.
StoredTensor store_tensor(const std::filesystem::path& file, const at::Tensor& tensor, std::uint64_t skip) {
  std::ofstream out(file, std::ios::binary);
  out << std::string(skip, 'x');
  out.write(static_cast<const char*>(tensor.data_ptr()), static_cast<std::streamsize>(tensor.nbytes()));
  return StoredTensor{file, skip, tensor.sizes().vec(), static_cast<std::size_t>(tensor.element_size()), {}};
}

}  // namespace

TEST_CASE("FileRanges reads any byte range, through its window or past it, and names a file that is too short") {
  TempDir dir;
  std::string bytes(5000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  std::ofstream(dir / "f", std::ios::binary) << bytes;
  FileRanges files(1024);
  for (const auto& [offset, size] : std::vector<std::pair<std::size_t, std::size_t>>{{0, 10}, {10, 100}, {3000, 2000}, {5, 1500}, {4990, 10}}) {
    std::string got(size, '\0');
    files.read(dir / "f", offset, size, got.data());
    CHECK(got == bytes.substr(offset, size));
  }
  std::string got(20, '\0');
  CHECK_THROWS_WITH_AS(files.read(dir / "f", 4990, 20, got.data()), doctest::Contains("shorter than it was when written"), DataError);
  CHECK_THROWS_WITH_AS(files.read(dir / "missing", 0, 1, got.data()), doctest::Contains("cannot open"), DataError);
}

TEST_CASE("copy_padded_rows puts stored rows into a padded block, leaving the padding as it was") {
  TempDir dir;
  const at::Tensor stored = at::arange(2 * 3 * 2, at::kFloat).reshape({2, 3, 2}) + 1;
  const StoredTensor place = store_tensor(dir / "t", stored, 13);
  FileRanges files;
  at::Tensor block = at::zeros({2, 5, 4});
  copy_padded_rows(files, place, 0, 2, {5, 4}, static_cast<char*>(block.data_ptr()));
  CHECK(at::equal(block.narrow(1, 0, 3).narrow(2, 0, 2), stored));
  CHECK(block.narrow(1, 3, 2).abs().sum().item<float>() == 0);
  CHECK(block.narrow(2, 2, 2).abs().sum().item<float>() == 0);
  at::Tensor one = at::zeros({1, 3, 2});
  copy_padded_rows(files, place, 1, 1, {3, 2}, static_cast<char*>(one.data_ptr()));
  CHECK(at::equal(one[0], stored[1]));
}

TEST_CASE("emit_stored_rows hands out rows from several files in the order asked, padded, in blocks") {
  TempDir dir;
  // Two files of rows [n, length, 64] floats; row r of file f holds 1000 f + r everywhere it is not padding.
  const at::Tensor a = (at::arange(10, at::kFloat).reshape({10, 1, 1}) + at::zeros({10, 3, 64})).contiguous();
  const at::Tensor b = (at::arange(6, at::kFloat).reshape({6, 1, 1}) + 1000 + at::zeros({6, 5, 64})).contiguous();
  const StoredTensor in_a = store_tensor(dir / "a", a, 7);
  const StoredTensor in_b = store_tensor(dir / "b", b, 0);
  std::vector<std::pair<std::size_t, std::int64_t>> order;  // interleaved, with runs of neighbours
  for (std::int64_t r = 0; r < 6; ++r) order.push_back({1, r});
  for (std::int64_t r = 9; r >= 0; --r) order.push_back({0, r});
  std::swap(order[3], order[12]);
  FileRanges files(4096);
  std::vector<at::Tensor> blocks;
  emit_stored_rows(files, {&in_a, &in_b}, static_cast<std::int64_t>(order.size()), [&](std::int64_t i) {
    return RowPlace{order[static_cast<std::size_t>(i)].first, order[static_cast<std::size_t>(i)].second, 1};
  }, at::kFloat, {5, 64}, [&](const at::Tensor& block) { blocks.push_back(block.clone()); });
  const at::Tensor all = at::cat(blocks);
  REQUIRE((all.sizes() == at::IntArrayRef({16, 5, 64})));
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto [file, row] = order[i];
    const at::Tensor expected = file == 0 ? at::cat({a[row], at::zeros({2, 64})}) : b[row];
    CHECK(at::equal(all[static_cast<std::int64_t>(i)], expected));
  }
}

TEST_CASE("emit_stored_rows takes units of several rows (an unpadded output's tokens), a row larger than a block whole") {
  TempDir dir;
  const at::Tensor tokens = at::arange(300000, at::kFloat).reshape({150000, 2});  // 1.2 MB: rows of 100000 tokens exceed a block
  const StoredTensor in = store_tensor(dir / "t", tokens, 3);
  const std::vector<RowPlace> rows{{0, 100000, 50000}, {0, 0, 100000}, {0, 5, 2}};
  FileRanges files;
  std::vector<at::Tensor> blocks;
  emit_stored_rows(files, {&in}, 3, [&](std::int64_t i) { return rows[static_cast<std::size_t>(i)]; }, at::kFloat, {2},
                   [&](const at::Tensor& block) { blocks.push_back(block.clone()); });
  CHECK(at::equal(at::cat(blocks), at::cat({tokens.narrow(0, 100000, 50000), tokens.narrow(0, 0, 100000), tokens.narrow(0, 5, 2)})));
}
