#pragma once
// CSVLogger: every logged metric in one CSV file, as Lightning's CSVLogger:
// {save_dir}/version_{N}/metrics.csv, a new version per run unless one is
// named. One row per epoch (epoch, step and every metric of the epoch) and,
// with log_every_n_steps, one row every N steps with train_loss_step. The
// header is the sorted union of every column seen, so it is the same however
// the rows came; the file is rewritten whole (atomically) as rows arrive.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "minitrain/core/callback.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace minitrain::plugins {

inline constexpr ParamSpec kCsvLoggerParams[] = {
    {"save_dir", ParamType::Path, "logs", "where the version_N folders go", nullptr},
    {"version", ParamType::Int, "null", "write to version_N (null: the next free N)", nullptr, at_least(0)},
    {"log_every_n_steps", ParamType::Int, "0", "also a row every N optimizer steps (0: epoch rows only)", nullptr,
     at_least(0)},
};

class CsvLogger : public Callback {
 public:
  explicit CsvLogger(const PluginArgs& args);
  void connect(Events& events) override;
  const std::filesystem::path& file() const { return file_; }

 private:
  void add_row(std::map<std::string, double> row);
  void write() const;

  std::filesystem::path file_;
  std::int64_t every_n_steps_;
  int rank_ = 0;
  std::vector<std::map<std::string, double>> rows_;
};

}  // namespace minitrain::plugins
