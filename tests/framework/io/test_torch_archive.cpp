#include <caffe2/serialize/inline_container.h>

#include <string>
#include <vector>

#include "minitrain/base/error.hpp"
#include "minitrain/io/prediction_manifest.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/io/torch_archive.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string record_in(const fs::path& file, const std::string& name) {
  caffe2::serialize::PyTorchStreamReader reader(file.string());
  const auto [data, size] = reader.getRecord(name);
  return {static_cast<const char*>(data.get()), size};
}

}  // namespace

TEST_CASE("reserved records are filled in later, after the records that follow them; the file's CRC-32 needs no read back") {
  for (const bool zip64 : {false, true}) {
    CAPTURE(zip64);
    TempDir dir;
    const fs::path file = dir / "archive.pt";
    std::string big(5 << 20, '\0');  // past the size where the record's CRC is computed on the helper thread
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
    const std::string first = "filled in two pieces", second = "filled in one";
    TorchArchiveWriter::Options options;
    options.force_zip64 = zip64;
    TorchArchiveWriter archive(file, options);
    const std::size_t a = archive.reserve_record("data/0", first.size());
    const std::size_t b = archive.reserve_record("data/1", second.size());
    archive.write_record("data/2", big.data(), big.size());
    archive.begin_record("data/3", 6);
    archive.append("str", 3);
    archive.append("eam", 3);
    archive.end_record();
    archive.fill_reserved(b, second.data(), second.size());
    archive.fill_reserved(a, first.data(), 8);
    CHECK(archive.reserved_filled(a) == 8);
    CHECK_THROWS_AS(archive.fill_reserved(b, "x", 1), Error);  // past its end
    CHECK_THROWS_WITH(archive.finish(), doctest::Contains("reserved record archive/data/0 got 8 of its 20 bytes"));
    archive.fill_reserved(a, first.data() + 8, first.size() - 8);
    write_pickle_records(archive, std::vector<char>{'\x80', '\x02', 'N', '.'});
    archive.finish();

    CHECK(archive.size() == fs::file_size(file));
    // Worked out from the records' CRCs, it matches the bytes only if each of those is right too.
    CHECK(archive.file_crc32() == file_crc32(file));
    CHECK(record_in(file, "data/0") == first);
    CHECK(record_in(file, "data/1") == second);
    CHECK(record_in(file, "data/2") == big);
    CHECK(record_in(file, "data/3") == "stream");
    caffe2::serialize::PyTorchStreamReader reader(file.string());
    CHECK(reader.getRecordOffset("data/0") % 64 == 0);  // aligned as PyTorch aligns its records
    CHECK(reader.getRecordOffset("data/1") % 64 == 0);
  }
}

TEST_CASE("save_pickled gives the size and CRC-32 of the file it wrote") {
  TempDir dir;
  c10::impl::GenericDict value(c10::StringType::get(), c10::AnyType::get());
  value.insert("x", at::arange(1 << 20, at::kFloat));
  value.insert("y", at::ones({3, 4}, at::kLong));
  FileSum sum;
  save_pickled(value, dir / "v.pt", {}, &sum);
  CHECK(sum.bytes == fs::file_size(dir / "v.pt"));
  CHECK(sum.crc32 == file_crc32(dir / "v.pt"));
}
