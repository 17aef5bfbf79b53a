#pragma once
// The job file: LightningCLI's shape, read with yaml-cpp into typed structs.
// Every problem is collected with its file:line:col before anything runs.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "minitrain/job/dataset_config.hpp"
#include "minitrain/base/diagnostics.hpp"
#include "minitrain/models/optimization.hpp"
#include "minitrain/base/params.hpp"

namespace minitrain {

// Where each value of the job came from: a line of the file, or an override.
class JobSource {
 public:
  JobSource() = default;
  explicit JobSource(std::filesystem::path file) : file_(std::move(file)) {}
  void add_override(const std::string& yaml_path, const std::string& argument);
  SourceLocation locate(const YAML::Node& node, const std::string& yaml_path) const;
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::map<std::string, std::string> overrides_;  // yaml path -> "--a.b=c"
};

struct CallbackSpec {
  std::string plugin;  // a name, or a path to a .so
  YAML::Node init_args;
  std::string yaml_path;  // trainer.callbacks[i]
  SourceLocation where;   // of the `plugin:` value
};

struct TrainerConfig {
  std::int64_t max_epochs = 1;
  std::optional<std::int64_t> limit_train_batches;
  std::optional<std::int64_t> limit_val_batches;
  std::optional<std::int64_t> limit_predict_batches;
  std::int64_t check_val_every_n_epoch = 1;
  std::string accelerator = "cpu";
  std::int64_t devices = 1;    // processes per machine
  std::int64_t num_nodes = 1;  // machines
  std::int64_t distributed_timeout_s = 1800;
  std::filesystem::path default_root_dir = "runs";
  std::optional<double> gradient_clip_val;
  std::int64_t accumulate_grad_batches = 1;
  std::string on_nonfinite_loss = "error";  // or skip_batch
  std::vector<CallbackSpec> callbacks;
};

// `class_path: protein_encoder` with its init_args, or `torchscript: FILE`
// (class_path "torchscript") with the model section's keys as init_args.
struct ModelConfig {
  std::string class_path;
  PluginArgs init_args;
};

// Shared loader options, and one dataset per stage: fit trains on `train` and
// validates on `val`; validate uses `val`; predict uses `predict`.
struct DataConfig {
  std::int64_t batch_size = 8;
  bool shuffle = false;    // the training data only
  bool drop_last = false;  // the training data only
  std::optional<DatasetConfig> train;
  std::optional<DatasetConfig> val;
  std::optional<DatasetConfig> predict;
};

struct JobConfig {
  std::optional<std::int64_t> seed_everything;
  TrainerConfig trainer;
  ModelConfig model;
  DataConfig data;
  std::optional<OptimizerConfig> optimizer;    // replaces the model's own optimizer
  std::optional<ScheduleConfig> lr_scheduler;
  std::optional<std::filesystem::path> ckpt_path;  // weights to load before running
  YAML::Node resolved;  // the whole job, overrides applied and defaults filled in
  JobSource source;
};

// Checks `args` (a map, or null for none) against a parameter table and returns
// the typed values, defaults included. Defaults are also written into `args`,
// so a printed config shows every value in force. Keys in `ignored_keys` are
// left for the caller.
PluginArgs validate_params(YAML::Node args, std::span<const ParamSpec> specs, const std::string& yaml_path,
                           const JobSource& source, Diagnostics& diagnostics,
                           std::span<const std::string> ignored_keys = {});

// Parses the job file and `--a.b.c=value` overrides. Problems are added to
// `diagnostics`; the caller decides when to throw (after plugins are checked too).
JobConfig load_job_config(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                          Diagnostics& diagnostics);

// The job as YAML text, every default filled in.
std::string to_yaml(const JobConfig& job);

}  // namespace minitrain
