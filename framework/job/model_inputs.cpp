// A forward model's inputs, chosen from or checked against the stage's data.
#include "minitrain/job/model_inputs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace minitrain {

namespace {

bool contains(const std::vector<std::string>& fields, const std::string& name) {
  return std::find(fields.begin(), fields.end(), name) != fields.end();
}

// The datasets a stage reads: fit trains on data.train and validates on data.val.
std::vector<const DatasetConfig*> stage_datasets(const JobConfig& job, Stage stage) {
  std::vector<const DatasetConfig*> datasets;
  auto add = [&](const std::optional<DatasetConfig>& dataset) {
    if (dataset) datasets.push_back(&*dataset);
  };
  if (stage == Stage::fit) {
    add(job.data.train);
    add(job.data.val);
  }
  if (stage == Stage::validate) add(job.data.val);
  if (stage == Stage::predict) add(job.data.predict);
  return datasets;
}

std::string what_it_holds(const DatasetConfig& dataset, const std::vector<std::string>& fields) {
  return fmt::format("{} ({}), whose batches hold {}", dataset.yaml_path, describe(dataset), fmt::join(fields, ", "));
}

bool is_forward_model(const JobConfig& job) { return job.model.kind && job.model.init_args.values().count("inputs"); }

bool uses_target(const JobConfig& job, Stage stage) { return stage != Stage::predict && job.model.init_args.has("loss"); }

// Chooses missing inputs from `fields`, then checks the inputs and the loss's target against them.
void fit_inputs_to(JobConfig& job, const DatasetConfig& data, const std::vector<std::string>& fields, Stage stage,
                   Diagnostics& diagnostics) {
  YAML::Node model = job.resolved["model"];
  if (!job.model.init_args.has("inputs")) {
    const char* chosen = contains(fields, "input_ids") ? "input_ids" : contains(fields, "features") ? "features" : nullptr;
    if (!chosen) {
      diagnostics.error(job.source.locate(model, "model"), "model.inputs",
                        fmt::format("not given, and the batches of {} ({}) hold {}, neither input_ids nor features; "
                                    "write model.inputs: [NAME, ...], the batch fields forward takes, in order",
                                    data.yaml_path, describe(data), fmt::join(fields, ", ")));
      return;
    }
    job.model.init_args.set("inputs", StringList{chosen});
    model["inputs"] = StringList{chosen};  // the printed job shows the inputs in force
  }
  for (const std::string& input : job.model.init_args.string_list("inputs")) {
    if (contains(fields, input)) continue;
    diagnostics.error(job.source.locate(model["inputs"], "model.inputs"), "model.inputs",
                      fmt::format("'{}' is not a field of {}{}; list the fields forward takes, e.g. model.inputs: [{}]",
                                  input, what_it_holds(data, fields), did_you_mean(input, fields), fields.front()));
  }
  const std::string target = job.model.init_args.string("target");
  if (uses_target(job, stage) && !contains(fields, target)) {
    diagnostics.error(job.source.locate(model, "model"), "model.target",
                      fmt::format("{} compares forward's output with '{}', which is not a field of {}; name the "
                                  "target field with model.target, or give the data targets",
                                  to_string(stage), target, what_it_holds(data, fields)));
  }
}

}  // namespace

void choose_model_inputs(JobConfig& job, Stage stage, Diagnostics& diagnostics) {
  if (!is_forward_model(job)) return;
  for (const DatasetConfig* data : stage_datasets(job, stage)) {
    const std::vector<std::string> fields = data->kind->fields(data->args);
    if (!fields.empty()) fit_inputs_to(job, *data, fields, stage, diagnostics);
  }
}

void choose_model_inputs(JobConfig& job, Stage stage, const DatasetConfig& config, const Dataset& data) {
  if (!is_forward_model(job) || !config.kind->fields(config.args).empty()) return;  // checked with the job
  const std::vector<std::string> fields = data.fields();
  if (fields.empty()) return;  // no samples: forward never runs
  Diagnostics diagnostics;
  fit_inputs_to(job, config, fields, stage, diagnostics);
  diagnostics.throw_if_any();
}

}  // namespace minitrain
