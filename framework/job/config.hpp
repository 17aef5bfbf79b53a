#pragma once
// The job file: LightningCLI's shape, read with yaml-cpp and checked section by
// section against the parameter schema (trainer, model, optimizer,
// lr_scheduler, data and each dataset; every plugin's init_args once the
// plugin is loaded). Every problem is collected with its file:line:col before
// anything runs.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/param_check.hpp"
#include "minitrain/core/trainer_settings.hpp"
#include "minitrain/job/dataset_config.hpp"
#include "minitrain/models/model_kinds.hpp"
#include "minitrain/models/optimization.hpp"

namespace minitrain {

struct CallbackSpec {
  std::string plugin;  // a name, or a path to a .so
  YAML::Node init_args;
  std::string yaml_path;  // trainer.callbacks[i]
  SourceLocation where;   // of the `plugin:` value
};

// `class_path: protein_encoder` with its init_args, or `torchscript: FILE`
// with the model section's keys as init_args (models/model_kinds.hpp).
struct ModelConfig {
  const ModelKind* kind = nullptr;  // null when the section was wrong
  PluginArgs init_args;
  std::string class_path() const { return kind ? kind->name : ""; }
};

// Shared loader options, and one dataset per stage: fit trains on `train` and
// validates on `val`; validate uses `val`; predict uses `predict`.
struct DataConfig {
  std::int64_t batch_size = 8;
  bool shuffle = false;    // the training data only
  bool drop_last = false;  // the training data only
  std::int64_t prefetch_batches = 2;
  std::optional<DatasetConfig> train;
  std::optional<DatasetConfig> val;
  std::optional<DatasetConfig> predict;
};

struct JobConfig {
  std::optional<std::int64_t> seed_everything;
  TrainerSettings trainer;                 // the trainer section
  std::vector<CallbackSpec> callbacks;     // trainer.callbacks, in order
  ModelConfig model;
  DataConfig data;
  std::optional<OptimizerConfig> optimizer;    // replaces the model's own optimizer
  std::optional<ScheduleConfig> lr_scheduler;
  std::optional<std::filesystem::path> ckpt_path;  // weights to load before running
  YAML::Node resolved;  // the whole job, overrides applied and defaults filled in
  JobSource source;
};

// Parses the job files (later ones override earlier ones, job/job_files.hpp)
// and `--a.b.c=value` overrides. Problems are added to `diagnostics`; the
// caller decides when to throw (after plugins are checked too).
JobConfig load_job_config(const std::vector<std::filesystem::path>& files, const std::vector<std::string>& overrides,
                          Diagnostics& diagnostics);
JobConfig load_job_config(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                          Diagnostics& diagnostics);

// The job as YAML text, every default filled in.
std::string to_yaml(const JobConfig& job);

}  // namespace minitrain
