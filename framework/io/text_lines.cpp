#include "minitrain/io/text_lines.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace {
gzFile gz(void* file) { return static_cast<gzFile>(file); }
}  // namespace

TextLines::TextLines(const std::filesystem::path& path) : path_(path), buffer_(1 << 18) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) return;
  // zlib reads a file without the gzip magic bytes as it is ("transparent" mode).
  gzbuffer(file, 1 << 17);
  file_ = file;
  try {
    fill();  // gzdirect() is known only after the first read
  } catch (...) {  // a damaged archive found at once: no destructor runs for an unfinished object
    gzclose(file);
    file_ = nullptr;
    throw;
  }
  compressed_ = gzdirect(file) == 0;
}

TextLines::~TextLines() {
  if (file_) gzclose(gz(file_));
}

bool TextLines::fill() {
  if (at_end_) return false;
  if (begin_ > 0) {  // keep the partial line at the front
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    dropped_ += static_cast<std::int64_t>(begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than the buffer
  const int n = gzread(gz(file_), buffer_.data() + end_, static_cast<unsigned>(buffer_.size() - end_));
  int code = Z_OK;
  const char* message = gzerror(gz(file_), &code);
  if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    const bool truncated = code == Z_BUF_ERROR;
    std::string why = message ? message : "zlib error";
    const std::string prefix = path_.string() + ": ";  // zlib names the file itself
    if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
    throw DataError(fmt::format("{}: error: the gzip data {} at compressed byte {} ({})\n  fix: {}", path_.string(),
                                truncated ? "ends early" : "is corrupt", static_cast<long long>(gzoffset(gz(file_))),
                                why,
                                truncated ? "the file was cut short (an interrupted download?); fetch it again"
                                          : "fetch the file again, or check it with gzip -t"));
  }
  if (n == 0) at_end_ = true;
  end_ += static_cast<std::size_t>(std::max(n, 0));
  return n > 0;
}

bool TextLines::next(std::string& line) {
  if (!file_) return false;
  for (;;) {
    const auto first = buffer_.begin() + static_cast<std::ptrdiff_t>(begin_);
    const auto last = buffer_.begin() + static_cast<std::ptrdiff_t>(end_);
    const auto newline = std::find(first, last, '\n');
    if (newline != last || (at_end_ && first != last)) {
      line.assign(first, newline);
      line_offset_ = next_offset();
      begin_ = static_cast<std::size_t>(newline - buffer_.begin()) + (newline != last ? 1 : 0);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    if (at_end_ || !fill()) {
      if (begin_ < end_) continue;  // the last line, without a final line break
      return false;
    }
  }
}

bool is_gzip_file(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  unsigned char magic[2] = {0, 0};
  const bool gzip = std::fread(magic, 1, 2, file) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::fclose(file);
  return gzip;
}

}  // namespace minitrain
