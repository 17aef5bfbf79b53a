#include "csv_logger.hpp"

#include <fmt/format.h>

#include <fstream>
#include <set>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"

namespace minitrain::plugins {

namespace fs = std::filesystem;

namespace {
fs::path next_version(const fs::path& save_dir) {
  for (int n = 0;; ++n) {
    const fs::path candidate = save_dir / fmt::format("version_{}", n);
    if (!fs::exists(candidate)) return candidate;
  }
}
}  // namespace

CsvLogger::CsvLogger(const PluginArgs& args) : every_n_steps_(args.integer("log_every_n_steps")) {
  const fs::path save_dir = args.string("save_dir");
  file_ = (args.has("version") ? save_dir / fmt::format("version_{}", args.integer("version")) : next_version(save_dir)) /
          "metrics.csv";
}

void CsvLogger::connect(Events& events) {
  on(events.setup, [this](const Setup& s) { rank_ = s.global_rank; });
  on(events.train_batch_end, [this](const TrainBatchEnd& e) {
    if (every_n_steps_ == 0 || e.global_step % every_n_steps_ != 0) return;
    // With accumulation several batches share a step; the window's last one logs it.
    if (!rows_.empty() && rows_.back().count("train_loss_step") && rows_.back().at("step") == e.global_step) rows_.pop_back();
    add_row({{"epoch", static_cast<double>(e.epoch)}, {"step", static_cast<double>(e.global_step)},
             {"train_loss_step", e.loss.item<double>()}});
  });
  on(events.train_epoch_end, [this](const TrainEpochEnd& e) {
    std::map<std::string, double> row(e.metrics.begin(), e.metrics.end());
    row["epoch"] = static_cast<double>(e.epoch);
    row["step"] = static_cast<double>(e.global_step);
    add_row(std::move(row));
  });
  on(events.fit_end, [this](const FitEnd&) {
    if (rank_ == 0 && !rows_.empty()) log::info(fmt::format("csv_logger: {} row(s) in {}", rows_.size(), file_.string()));
  });
}

void CsvLogger::add_row(std::map<std::string, double> row) {
  rows_.push_back(std::move(row));
  if (rank_ == 0) write();  // every rank logs the same metrics
}

void CsvLogger::write() const {
  std::set<std::string> metrics;
  for (const auto& row : rows_)
    for (const auto& [name, value] : row)
      if (name != "epoch" && name != "step") metrics.insert(name);
  std::string text = "epoch,step";
  for (const auto& name : metrics) text += "," + name;
  text += "\n";
  for (const auto& row : rows_) {
    text += fmt::format("{},{}", static_cast<std::int64_t>(row.at("epoch")), static_cast<std::int64_t>(row.at("step")));
    for (const auto& name : metrics) {
      const auto found = row.find(name);
      text += found == row.end() ? "," : fmt::format(",{}", found->second);
    }
    text += "\n";
  }
  fs::create_directories(file_.parent_path());
  const fs::path temporary = file_.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) throw Error(fmt::format("csv_logger: cannot write {}", temporary.string()));
  }
  fs::rename(temporary, file_);
}

constexpr PluginInfo kCsvLoggerInfo = {"csv_logger", "0.1.0", "every logged metric in one CSV file",
                                       kCsvLoggerParams, std::size(kCsvLoggerParams)};

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::CsvLogger, minitrain::plugins::kCsvLoggerInfo)
