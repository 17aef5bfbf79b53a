// Text inputs read line by line, plain or gzip-compressed, and the damaged
// archives refused with the file and the byte offset.
#include <zlib.h>

#include <fstream>

#include "minitrain/base/error.hpp"
#include "minitrain/io/text_lines.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const fs::path& path) {
  TextLines in(path);
  REQUIRE(in.is_open());
  std::vector<std::string> lines;
  std::string line;
  while (in.next(line)) lines.push_back(line);
  return lines;
}

// `text` gzip-compressed into `path`, as `members` gzip members one after another (as bgzip writes).
void write_gzip(const fs::path& path, const std::string& text, int members = 1) {
  std::ofstream(path, std::ios::trunc).close();
  const std::size_t part = text.size() / static_cast<std::size_t>(members) + 1;
  for (std::size_t start = 0; start < text.size(); start += part) {
    gzFile out = gzopen(path.c_str(), "ab");
    REQUIRE(out != nullptr);
    const std::string piece = text.substr(start, part);
    gzwrite(out, piece.data(), static_cast<unsigned>(piece.size()));
    gzclose(out);
  }
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("plain and gzip-compressed text read the same lines, whatever the file's name") {
  TempDir dir;
  const std::string long_line(700'000, 'A');  // longer than the read buffer
  const std::string text = ">a one\r\nMKV\n\n" + long_line + "\n>b\nLAST";  // CRLF, a blank line, no final break
  const std::vector<std::string> expected{">a one", "MKV", "", long_line, ">b", "LAST"};
  std::ofstream(dir / "plain.fa") << text;
  write_gzip(dir / "packed.fa.gz", text);
  write_gzip(dir / "no_suffix.fa", text);
  write_gzip(dir / "members.fa.gz", text, 3);
  CHECK(lines_of(dir / "plain.fa") == expected);
  for (const char* name : {"packed.fa.gz", "no_suffix.fa", "members.fa.gz"}) {
    CAPTURE(name);
    CHECK(lines_of(dir / name) == expected);
    CHECK(TextLines(dir / name).compressed());
  }
  CHECK_FALSE(TextLines(dir / "plain.fa").compressed());
  CHECK_FALSE(TextLines(dir / "missing.fa").is_open());
}

TEST_CASE("a truncated or corrupt gzip stream is an error naming the file and the byte") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += ">seq" + std::to_string(i) + "\nMKVLAAGIVGLLLAAQPAMA\n";
  write_gzip(dir / "whole.fa.gz", text);
  const std::string packed = read_bytes(dir / "whole.fa.gz");
  std::ofstream(dir / "cut.fa.gz", std::ios::binary) << packed.substr(0, packed.size() / 2);
  std::string corrupt = packed;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0xff);
  std::ofstream(dir / "bad.fa.gz", std::ios::binary) << corrupt;
  const std::string cut = (dir / "cut.fa.gz").string() + ": error: the gzip data ends early at compressed byte " +
                          std::to_string(packed.size() / 2) + " (unexpected end of file)";
  const std::string bad = (dir / "bad.fa.gz").string() + ": error: the gzip data is corrupt at compressed byte";
  CHECK_THROWS_WITH_AS(lines_of(dir / "cut.fa.gz"), doctest::Contains(cut.c_str()), DataError);
  CHECK_THROWS_WITH_AS(lines_of(dir / "bad.fa.gz"), doctest::Contains(bad.c_str()), DataError);
}
