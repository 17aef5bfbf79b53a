// The fuzz targets' committed seeds and every input that once found a bug
// (tests/fuzz/regressions/<target>/), replayed in the normal build: each must
// end in a minitrain::Error or in success, never anything else.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/fuzz_targets.hpp"

#include "doctest_torch.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kFuzz = fs::path(MINITRAIN_SOURCE_DIR) / "tests" / "fuzz";

std::vector<std::uint8_t> read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `target` on every file of corpus/<name> and regressions/<name>; returns how many.
template <class Target>
int replay(const char* name, Target target) {
  int inputs = 0;
  for (const char* kind : {"corpus", "regressions"}) {
    for (const auto& entry : fs::directory_iterator(kFuzz / kind / name)) {
      if (!entry.is_regular_file() || entry.path().filename() == ".gitkeep") continue;
      INFO(entry.path().string());
      const std::vector<std::uint8_t> bytes = read_bytes(entry.path());
      CHECK_NOTHROW(target(std::span<const std::uint8_t>(bytes)));
      ++inputs;
    }
  }
  return inputs;
}

}  // namespace

TEST_CASE("the job-config fuzz target's seeds and regressions load or fail with a minitrain error") {
  CHECK(replay("job_config", minitrain::fuzzing::job_config) >= 5);
}

TEST_CASE("the prediction-file fuzz target's seeds and regressions collect or fail with a minitrain error") {
  CHECK(replay("prediction_file", minitrain::fuzzing::prediction_file) >= 4);
}

TEST_CASE("the run-record fuzz target's seeds and regressions draw a page or fail with a minitrain error") {
  CHECK(replay("run_record", minitrain::fuzzing::run_record) >= 2);
}
