// A fit's part of the report: losses per epoch and per step, every other
// metric, the learning rate, throughput, checkpoints and early stopping.
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "minitrain/report/report_sections.hpp"
#include "minitrain/report/svg_chart.hpp"

namespace minitrain {

namespace {

const CheckpointRecord* best_checkpoint(const RunRecord& record) {
  if (record.checkpoints.empty()) return nullptr;
  const std::string& best = record.checkpoints.back().best_path;
  for (auto it = record.checkpoints.rbegin(); it != record.checkpoints.rend(); ++it)
    if (it->path == best) return &*it;
  return nullptr;
}

const EarlyStoppingRecord* early_stop(const RunRecord& record) {
  for (const EarlyStoppingRecord& check : record.early_stopping)
    if (!check.stop_reason.empty()) return &check;
  return nullptr;
}

double samples_per_second(const EpochRecord& epoch) {
  return epoch.train_seconds > 0 ? static_cast<double>(epoch.samples) / epoch.train_seconds : 0;
}

ChartSeries epoch_series(const RunRecord& record, const std::string& metric) {
  ChartSeries series{metric, {}};
  for (const auto& [number, epoch] : record.epochs) {
    const auto found = epoch.metrics.find(metric);
    if (found != epoch.metrics.end()) series.points.emplace_back(static_cast<double>(number), found->second);
  }
  return series;
}

std::string epoch_table(const RunRecord& record, const std::set<std::string>& metrics) {
  std::vector<std::string> header{"epoch", "step"};
  header.insert(header.end(), metrics.begin(), metrics.end());
  header.insert(header.end(), {"training time", "samples/s"});
  std::vector<std::vector<std::string>> rows;
  for (const auto& [number, epoch] : record.epochs) {
    std::vector<std::string> row{std::to_string(number), std::to_string(epoch.step)};
    for (const std::string& metric : metrics) {
      const auto found = epoch.metrics.find(metric);
      row.push_back(found == epoch.metrics.end() ? "" : format_number(found->second));
    }
    row.push_back(format_seconds(epoch.train_seconds));
    row.push_back(format_number(std::round(samples_per_second(epoch) * 10) / 10));
    rows.push_back(std::move(row));
  }
  return html_table("epochs", header, rows);
}

}  // namespace

SummaryRows fit_summary(const RunRecord& record) {
  SummaryRows rows;
  if (!record.epochs.empty()) {
    const EpochRecord& last = record.epochs.rbegin()->second;
    rows.emplace_back("Epochs", fmt::format("{} (last: epoch {}, step {})", record.epochs.size(), last.epoch, last.step));
    std::string metrics;
    for (const auto& [name, value] : last.metrics)
      metrics += fmt::format("{}{} {}", metrics.empty() ? "" : ", ", escape_html(name), format_number(value));
    rows.emplace_back("Last metrics", metrics);
  } else {
    rows.emplace_back("Epochs", "none finished yet");
  }
  // Without a monitor, model_checkpoint keeps the latest: "best" would say what it did not weigh.
  if (const CheckpointRecord* best = best_checkpoint(record))
    rows.emplace_back(best->score ? "Best checkpoint" : "Latest checkpoint",
                      fmt::format("<code>{}</code>, epoch {}{}", escape_html(best->path), best->epoch,
                                  best->score ? fmt::format(" ({} {})", escape_html(best->monitor), format_number(*best->score))
                                              : ""));
  if (!record.early_stopping.empty()) {
    const EarlyStoppingRecord* stop = early_stop(record);
    rows.emplace_back("Early stopping", stop ? fmt::format("stopped after epoch {}: {}", stop->epoch, escape_html(stop->stop_reason))
                                             : fmt::format("went on after {} check(s)", record.early_stopping.size()));
  }
  return rows;
}

std::string fit_sections(const RunRecord& record) {
  std::set<std::string> metrics;
  for (const auto& [number, epoch] : record.epochs)
    for (const auto& [name, value] : epoch.metrics) metrics.insert(name);

  Chart losses{"fit-loss-epoch", "Loss per epoch", "epoch", "loss", {}, {}};
  for (const char* name : {"train_loss", "val_loss"})
    if (metrics.count(name)) losses.series.push_back(epoch_series(record, name));
  if (const CheckpointRecord* best = best_checkpoint(record); best && best->score)
    losses.markers.push_back({static_cast<double>(best->epoch), "best checkpoint"});
  if (const EarlyStoppingRecord* stop = early_stop(record))
    losses.markers.push_back({static_cast<double>(stop->epoch), "early stop"});

  Chart step_loss{"fit-loss-step", "Training loss per logged step (rank 0's batch)", "step", "loss", {{"train_loss_step", {}}}, {}};
  Chart lr{"fit-lr", "Learning rate per logged step", "step", "learning rate", {{"lr", {}}}, {}};
  for (const auto& [step, s] : record.steps) {
    step_loss.series[0].points.emplace_back(static_cast<double>(step), s.loss);
    lr.series[0].points.emplace_back(static_cast<double>(step), s.lr);
  }
  Chart samples{"fit-samples-per-s", "Training samples per second (all ranks)", "epoch", "samples/s", {{"samples/s", {}}}, {}};
  Chart batches{"fit-batches-per-s", "Training batches per second (each rank)", "epoch", "batches/s", {{"batches/s", {}}}, {}};
  for (const auto& [number, epoch] : record.epochs) {
    if (epoch.train_seconds <= 0) continue;
    samples.series[0].points.emplace_back(static_cast<double>(number), samples_per_second(epoch));
    batches.series[0].points.emplace_back(static_cast<double>(number), static_cast<double>(epoch.batches) / epoch.train_seconds);
  }

  std::string html = "<section id=\"fit\">\n<h2>Training</h2>\n<div class=\"charts\">\n";
  html += render_chart(losses) + render_chart(step_loss);
  for (const std::string& metric : metrics)
    if (metric != "train_loss" && metric != "val_loss")
      html += render_chart(Chart{"fit-metric-" + metric, metric + " per epoch", "epoch", metric, {epoch_series(record, metric)}, {}});
  html += render_chart(lr) + render_chart(samples) + render_chart(batches) + "</div>\n";
  html += "<h3>Epochs</h3>\n" + epoch_table(record, metrics);

  if (!record.checkpoints.empty()) {
    const CheckpointRecord* best = best_checkpoint(record);
    std::vector<std::vector<std::string>> rows;
    for (const CheckpointRecord& c : record.checkpoints)
      rows.push_back({std::to_string(c.epoch), std::to_string(c.step), "<code>" + escape_html(c.path) + "</code>",
                      c.score ? escape_html(c.monitor) + " " + format_number(*c.score) : "",
                      best && &c == best ? (c.score ? "best" : "latest") : ""});
    html += "<h3>Checkpoints saved</h3>\n" + html_table("checkpoints", {"epoch", "step", "file", "score", ""}, rows);
  }
  if (!record.early_stopping.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const EarlyStoppingRecord& e : record.early_stopping)
      rows.push_back({std::to_string(e.epoch), escape_html(e.monitor) + " " + format_number(e.value), format_number(e.best),
                      fmt::format("{} of {}", e.wait, e.patience),
                      e.stop_reason.empty() ? "go on" : "stop: " + escape_html(e.stop_reason)});
    html += "<h3>Early stopping</h3>\n" +
            html_table("early-stopping", {"epoch", "value", "best so far", "without improvement", "decision"}, rows);
  }
  return html + "</section>\n";
}

}  // namespace minitrain
