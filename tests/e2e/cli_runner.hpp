#pragma once
// Running the real CLI and Python from the end-to-end tests, as the README
// does: from the source directory, stdout and stderr together.
#include <fmt/format.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>

namespace minitrain::e2e {

namespace fs = std::filesystem;

inline const fs::path kSource = MINITRAIN_SOURCE_DIR;
inline const std::string kCli = MINITRAIN_CLI;
inline const fs::path kFasta = kSource / "configs" / "data" / "globins45.fa";

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs a shell command from the source directory, as the README does.
inline Result run(const std::string& command) {
  const std::string full = fmt::format("cd '{}' && {} 2>&1", kSource.string(), command);
  FILE* pipe = ::popen(full.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

inline Result run_cli(const std::string& args) { return run(fmt::format("'{}' {}", kCli, args)); }

}  // namespace minitrain::e2e
