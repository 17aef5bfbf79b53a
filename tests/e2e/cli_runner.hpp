#pragma once
// Running the real CLI and Python from the end-to-end tests, as the README
// does: from the source directory, stdout and stderr together.
#include <fmt/format.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "test_support.hpp"

#include <doctest/doctest.h>

namespace minitrain::e2e {

namespace fs = std::filesystem;
using minitrain::testing::TempDir;

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

// Runs `minitrain ARGS` in the background, its output to `log`, and once `ready` (a shell test) holds,
// or it has ended, runs `action` (shell, with $P its pid); prints "minitrain exit CODE", then the log.
inline Result run_cli_then(const std::string& args, const std::string& ready, const std::string& action, const fs::path& log) {
  return run(fmt::format(
      "( '{0}' {1} >{2} 2>&1 & P=$!; "
      "while kill -0 $P 2>/dev/null && ! ( {3} ); do sleep 0.02; done; "
      "{4}; wait $P; echo \"minitrain exit $?\"; cat {2} )",
      kCli, args, log.string(), ready, action));
}

// A predict job on the shipped data with one prediction_writer; `writer_args`
// is the init_args block, indented for its place.
inline fs::path predict_job(const minitrain::testing::TempDir& dir, const std::string& writer_args,
                            const std::string& plugin = "prediction_writer") {
  const fs::path job = dir / "job.yaml";
  minitrain::testing::write_file(job, fmt::format(R"(trainer:
  callbacks:
    - plugin: {}
      init_args:
{}
model:
  class_path: protein_encoder
  init_args: {{embed_dim: 16, num_heads: 2, num_layers: 1, ff_dim: 32}}
data:
  batch_size: 16
  predict: {{fasta: {}}}
)",
                              plugin, writer_args, kFasta.string()));
  return job;
}

inline std::size_t files_in(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace minitrain::e2e
