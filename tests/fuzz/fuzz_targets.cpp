#include "fuzz_targets.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "minitrain/io/collect.hpp"
#include "minitrain/job/config.hpp"
#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/torch_archive.hpp"
#include "minitrain/report/report_page.hpp"
#include "minitrain/report/run_record.hpp"

namespace minitrain::fuzzing {

namespace fs = std::filesystem;

namespace {

// One scratch directory per process, emptied for every input.
fs::path scratch(const char* name) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("minitrain_fuzz_{}_{}", name, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_bytes(const fs::path& file, std::span<const std::uint8_t> data) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

}  // namespace

void job_config(std::span<const std::uint8_t> data) {
  std::vector<std::string> overrides;
  std::size_t start = 0;
  while (data.size() - start >= 2 && data[start] == '-' && data[start + 1] == '-') {
    std::size_t end = start;
    while (end < data.size() && data[end] != '\n') ++end;
    overrides.emplace_back(reinterpret_cast<const char*>(data.data() + start), end - start);
    start = std::min(end + 1, data.size());
  }
  const fs::path dir = scratch("job");
  write_bytes(dir / "job.yaml", data.subspan(start));
  Diagnostics diagnostics;
  try {
    const JobConfig job = load_job_config(dir / "job.yaml", overrides, diagnostics);
    if (diagnostics.empty()) (void)to_yaml(job);
    (void)diagnostics.format();
  } catch (const Error&) {  // the expected answer to bad input
  }
  fs::remove_all(dir);
}

void prediction_file(std::span<const std::uint8_t> data) {
  const fs::path dir = scratch("predictions");
  const bool safetensors = !data.empty() && data[0] == 1;
  const fs::path file = dir / (safetensors ? "predictions__rank_0.safetensors" : "predictions__rank_0.pt");
  if (safetensors) {
    write_bytes(file, data.subspan(1));
    write_bytes(dir / "predictions__rank_0.ids.json", std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(R"(["a", "b"])"), 10));
  } else if (!data.empty() && data[0] == 0) {
    TorchArchiveWriter archive(file);
    archive.write_record("data.pkl", data.data() + 1, data.size() - 1);
    const std::array<char, 64> storage{};
    archive.write_record("data/0", storage.data(), storage.size());
    archive.write_record("version", "3\n", 2);
    archive.finish();
  } else {
    write_bytes(file, data);
  }
  try {
    collect_predictions(dir, dir / "collected.pt");
  } catch (const Error&) {  // the expected answer to bad input
  }
  fs::remove_all(dir);
}

void run_record(std::span<const std::uint8_t> data) {
  const fs::path dir = scratch("record");
  write_bytes(dir / kRunRecordName, data);
  try {
    (void)render_report_page(read_run_record(dir), nullptr, {10, "fuzz"});
  } catch (const Error&) {  // the expected answer to bad input
  }
  fs::remove_all(dir);
}

}  // namespace minitrain::fuzzing
