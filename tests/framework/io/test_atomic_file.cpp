#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "minitrain/base/error.hpp"
#include "minitrain/io/atomic_file.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string contents_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string pattern(std::size_t size, int seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>((i * 31 + static_cast<std::size_t>(seed)) % 251);
  return text;
}

}  // namespace

TEST_CASE("write_all_at writes a head and a body back to back at the offset given, either one possibly empty") {
  TempDir dir;
  const fs::path file = dir / "pieces.bin";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  const std::string head = pattern(100, 1), body = pattern(3 << 20, 2), tail = pattern(7, 3);
  write_all_at(fd, head, body, 10, "pieces.bin");
  write_all_at(fd, {}, tail, 10 + head.size() + body.size(), "pieces.bin");
  write_all_at(fd, tail, {}, 0, "pieces.bin");
  write_all_at(fd, {}, {}, 5, "pieces.bin");  // nothing to write is no error
  ::close(fd);
  const std::string expected = tail + std::string(3, '\0') + head + body + tail;
  CHECK(contents_of(file) == expected);

  CHECK_THROWS_WITH_AS(write_all_at(-1, head, body, 0, "shown.bin"), doctest::Contains("cannot write shown.bin: Bad file descriptor"),
                       Error);
}

TEST_CASE("an AtomicFile keeps the order of pieces whatever their sizes, and appears only when committed") {
  TempDir dir;
  const fs::path file = dir / "whole.bin";
  std::string expected;
  {
    AtomicFile out(file, {});
    for (const std::size_t size : {std::size_t{10}, std::size_t{(1 << 20) - 20}, std::size_t{50}, std::size_t{3 << 20},
                                   std::size_t{1}, std::size_t{1 << 20}, std::size_t{2}}) {
      const std::string piece = pattern(size, static_cast<int>(expected.size() % 97));
      out.append(piece.data(), piece.size());
      expected += piece;
    }
    CHECK(out.size() == expected.size());
    CHECK_FALSE(fs::exists(file));
    out.commit();
  }
  CHECK(contents_of(file) == expected);
  {
    AtomicFile abandoned(dir / "abandoned.bin", {});
    abandoned.append(expected.data(), expected.size());
  }
  CHECK_FALSE(fs::exists(dir / "abandoned.bin"));
  CHECK_FALSE(fs::exists(temporary_path_for(dir / "abandoned.bin")));
}
