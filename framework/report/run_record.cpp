#include "minitrain/report/run_record.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// JSON has no NaN or infinity: a loss that diverged is kept as a string, read back as the number.
Json number(double value) { return std::isfinite(value) ? Json(value) : Json(fmt::format("{}", value)); }
double number_of(const Json& value) {
  if (value.is_string()) return std::stod(value.get<std::string>());
  return value.get<double>();
}
// A count or an index: a number written as one (1e300 is not, and would not fit).
std::int64_t integer(const Json& j, const char* key) {
  const Json& value = j.at(key);
  if (!value.is_number_integer()) throw std::invalid_argument(fmt::format("\"{}\" is not an integer", key));
  return value.get<std::int64_t>();
}

Json to_json(const RunStart& s) {
  return {{"record", "start"}, {"time", s.time},         {"stage", s.stage},     {"world_size", s.world_size},
          {"restart", s.restart}, {"job", s.job_yaml}, {"runtime", s.runtime}, {"model", s.model}};
}
Json to_json(const StepRecord& s) {
  return {{"record", "step"}, {"time", s.time}, {"epoch", s.epoch}, {"step", s.step}, {"loss", number(s.loss)}, {"lr", s.lr}};
}
Json to_json(const EpochRecord& e) {
  Json metrics = Json::object();
  for (const auto& [name, value] : e.metrics) metrics[name] = number(value);
  return {{"record", "epoch"},    {"time", e.time},     {"epoch", e.epoch},     {"step", e.step},
          {"train_seconds", e.train_seconds}, {"batches", e.batches}, {"samples", e.samples}, {"metrics", metrics}};
}
Json to_json(const CheckpointRecord& c) {
  return {{"record", "checkpoint"}, {"time", c.time},       {"epoch", c.epoch},
          {"step", c.step},         {"path", c.path},       {"monitor", c.monitor},
          {"score", c.score ? number(*c.score) : Json()}, {"best_path", c.best_path}};
}
Json to_json(const EarlyStoppingRecord& e) {
  return {{"record", "early_stopping"}, {"time", e.time}, {"epoch", e.epoch}, {"monitor", e.monitor},
          {"value", number(e.value)},    {"best", number(e.best)}, {"wait", e.wait}, {"patience", e.patience},
          {"stop_reason", e.stop_reason}};
}
Json to_json(const PredictRecord& p) { return {{"record", "predict"}, {"time", p.time}, {"batch", p.batch}, {"rows", p.rows}}; }
Json to_json(const WriterRecord& w) {
  return {{"record", "writer"}, {"time", w.time},   {"output_dir", w.output_dir}, {"files", w.files}, {"rows", w.rows},
          {"bytes", w.bytes},   {"waited_seconds", w.waited_seconds}, {"done", w.done}};
}
Json to_json(const RunEnd& e) { return {{"record", "end"}, {"time", e.time}, {"status", e.status}, {"message", e.message}}; }

void apply(RunRecord& r, const RunStart& s) { r.starts.push_back(s); }
void apply(RunRecord& r, const StepRecord& s) { r.steps[s.step] = s; }
void apply(RunRecord& r, const EpochRecord& e) { r.epochs[e.epoch] = e; }
void apply(RunRecord& r, const CheckpointRecord& c) { r.checkpoints.push_back(c); }
void apply(RunRecord& r, const EarlyStoppingRecord& e) { r.early_stopping.push_back(e); }
void apply(RunRecord& r, const PredictRecord& p) { r.predict.push_back(p); }
void apply(RunRecord& r, const WriterRecord& w) { r.writer.push_back(w); }
void apply(RunRecord& r, const RunEnd& e) { r.end = e; }

// One line of the file into the record; throws nlohmann's errors for a missing or mistyped field.
void apply_json(RunRecord& r, const Json& j) {
  const std::string kind = j.at("record").get<std::string>();
  const double time = j.at("time").get<double>();
  if (kind == "start") {
    apply(r, RunStart{time, j.at("stage").get<std::string>(), static_cast<int>(integer(j, "world_size")),
                      static_cast<int>(integer(j, "restart")), j.at("job").get<std::string>(),
                      j.at("runtime").get<std::string>(), j.at("model").get<std::string>()});
  } else if (kind == "step") {
    apply(r, StepRecord{time, integer(j, "epoch"), integer(j, "step"), number_of(j.at("loss")),
                        j.at("lr").get<double>()});
  } else if (kind == "epoch") {
    EpochRecord e{time, integer(j, "epoch"), integer(j, "step"), j.at("train_seconds").get<double>(),
                  integer(j, "batches"), integer(j, "samples"), {}};
    for (const auto& [name, value] : j.at("metrics").items()) e.metrics[name] = number_of(value);
    apply(r, e);
  } else if (kind == "checkpoint") {
    const Json& score = j.at("score");
    apply(r, CheckpointRecord{time, integer(j, "epoch"), integer(j, "step"),
                              j.at("path").get<std::string>(), j.at("monitor").get<std::string>(),
                              score.is_null() ? std::nullopt : std::optional<double>(number_of(score)),
                              j.at("best_path").get<std::string>()});
  } else if (kind == "early_stopping") {
    apply(r, EarlyStoppingRecord{time, integer(j, "epoch"), j.at("monitor").get<std::string>(),
                                 number_of(j.at("value")), number_of(j.at("best")), integer(j, "wait"),
                                 integer(j, "patience"), j.at("stop_reason").get<std::string>()});
  } else if (kind == "predict") {
    apply(r, PredictRecord{time, integer(j, "batch"), integer(j, "rows")});
  } else if (kind == "writer") {
    apply(r, WriterRecord{time, j.at("output_dir").get<std::string>(), integer(j, "files"),
                          integer(j, "rows"), integer(j, "bytes"),
                          j.at("waited_seconds").get<double>(), j.at("done").get<bool>()});
  } else if (kind == "end") {
    apply(r, RunEnd{time, j.at("status").get<std::string>(), j.at("message").get<std::string>()});
  } else {
    throw std::invalid_argument(fmt::format("unknown record \"{}\"", kind));
  }
}

}  // namespace

RunRecorder::RunRecorder(fs::path dir, bool append) : file_(dir / kRunRecordName) {
  fs::create_directories(dir);
  fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (append ? 0 : O_TRUNC), 0644);
  if (fd_ < 0) throw Error(fmt::format("cannot open {} to record the run: {}", file_.string(), std::strerror(errno)));
  if (append && fs::file_size(file_) > 0) record_ = read_run_record(dir);
}

RunRecorder::~RunRecorder() {
  try {
    flush();
  } catch (const std::exception&) {  // the error was the plugin's to report; nothing more can be done here
  }
  if (fd_ >= 0) ::close(fd_);
}

void RunRecorder::append_line(const std::string& json) {
  pending_ += json;
  pending_ += '\n';
  if (pending_.size() >= kFlushBytes) flush();
}

void RunRecorder::flush() {
  // Whole lines in one write(): a reader sees at most the last one cut short, and leaves it out.
  std::size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(fmt::format("cannot write {}: {}", file_.string(), std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  pending_.clear();
}

#define MINITRAIN_RECORD_ADD(Type)            \
  void RunRecorder::add(const Type& value) {  \
    append_line(to_json(value).dump());       \
    apply(record_, value);                    \
  }
MINITRAIN_RECORD_ADD(RunStart)
MINITRAIN_RECORD_ADD(StepRecord)
MINITRAIN_RECORD_ADD(EpochRecord)
MINITRAIN_RECORD_ADD(CheckpointRecord)
MINITRAIN_RECORD_ADD(EarlyStoppingRecord)
MINITRAIN_RECORD_ADD(PredictRecord)
MINITRAIN_RECORD_ADD(WriterRecord)
MINITRAIN_RECORD_ADD(RunEnd)
#undef MINITRAIN_RECORD_ADD

RunRecord read_run_record(const fs::path& dir) {
  const fs::path file = dir / kRunRecordName;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw Error(fmt::format("{} has no {}: the run_report callback writes it; add it to the job's trainer.callbacks, "
                            "e.g. - plugin: run_report, init_args: {{dir: {}}}",
                            dir.string(), kRunRecordName, dir.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  RunRecord record;
  std::size_t begin = 0;
  for (int line = 1; begin < text.size(); ++line) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;  // the line a killed run was writing
    const std::string_view content(text.data() + begin, end - begin);
    try {
      apply_json(record, Json::parse(content));
    } catch (const Json::parse_error& e) {
      throw DataError(fmt::format("{}:{}:{}: error: not a run record: {}\n  fix: this file is written by the run_report "
                                  "callback only; run the job again to write it anew",
                                  file.string(), line, std::max<std::size_t>(e.byte, 1), e.what()));
    } catch (const std::exception& e) {  // a missing or mistyped field
      throw DataError(fmt::format("{}:{}: error: not a run record: {}\n  fix: this file is written by the run_report "
                                  "callback only; run the job again to write it anew",
                                  file.string(), line, e.what()));
    }
    begin = end + 1;
  }
  if (record.starts.empty()) throw DataError(fmt::format("{}: error: the run record is empty; the run had not started", file.string()));
  return record;
}

}  // namespace minitrain
