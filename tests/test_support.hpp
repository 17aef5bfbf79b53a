#pragma once
// Helpers shared by the tests: a temporary directory that cleans up
// after itself, reading and writing small files, and running Python.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace minitrain::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "minitrain_test_XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// How many times `what` occurs in `text`, overlapping occurrences included.
inline std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

inline std::filesystem::path write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
  return path;
}

#ifdef MINITRAIN_PYTHON
// Runs a Python program (Debian's python3-torch) in `dir`; its exit status.
inline int run_python(const std::filesystem::path& dir, const std::string& program) {
  const std::filesystem::path script = write_file(dir / "script.py", program);
  const std::string command = "cd '" + dir.string() + "' && " MINITRAIN_PYTHON " '" + script.string() + "'";
  return std::system(command.c_str());
}
#endif

}  // namespace minitrain::testing
