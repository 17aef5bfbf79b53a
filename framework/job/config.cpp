// Reads a job file: YAML, overrides, then each section against its schema.
#include "minitrain/job/config.hpp"

#include <fmt/format.h>

#include "minitrain/job/job_files.hpp"
#include "minitrain/job/overrides.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

constexpr ParamSpec kJobParams[] = {
    {"seed_everything", ParamType::Int, "null", "seed for weights init, masking and shuffling", nullptr},
    {"ckpt_path", ParamType::Path, "null", "weights to load before fit or predict", nullptr},
};
const std::string kJobSections[] = {"trainer", "model", "data", "optimizer", "lr_scheduler"};
const std::string kTrainerSections[] = {"callbacks"};
const std::string kComponentSections[] = {"init_args"};

constexpr ParamSpec kDataParams[] = {
    {"batch_size", ParamType::Int, "8", "samples per batch", nullptr, at_least(1)},
    {"shuffle", ParamType::Bool, "false", "reshuffle the training samples every epoch (seeded)", nullptr},
    {"drop_last", ParamType::Bool, "false", "drop a last incomplete training batch", nullptr},
    {"prefetch_batches", ParamType::Int, "2", "batches built ahead on a loader thread while the model runs (0: none)",
     nullptr, at_least(0)},
};
const std::string kDataSections[] = {"train", "val", "predict"};

YAML::Node section(YAML::Node parent, const std::string& key) {
  if (!parent[key]) parent[key] = YAML::Node(YAML::NodeType::Map);
  return parent[key];
}

void load_callbacks(YAML::Node trainer, const JobSource& source, Diagnostics& diagnostics, std::vector<CallbackSpec>& callbacks) {
  YAML::Node list = trainer["callbacks"];
  if (!list || list.IsNull()) {
    trainer["callbacks"] = YAML::Node(YAML::NodeType::Sequence);
    return;
  }
  if (!list.IsSequence()) {
    diagnostics.error(source.locate(list, "trainer.callbacks"), "trainer.callbacks",
                      "expected a list of {plugin: NAME, init_args: {...}}, got " + describe(list));
    return;
  }
  const std::string keys[] = {"plugin", "init_args"};
  for (std::size_t i = 0; i < list.size(); ++i) {
    YAML::Node item = list[i];
    const std::string path = fmt::format("trainer.callbacks[{}]", i);
    if (!item.IsMap()) {
      diagnostics.error(source.locate(item, path), path, "expected {plugin: NAME, init_args: {...}}, got " + describe(item));
      continue;
    }
    for (const auto& kv : item) {
      const std::string key = kv.first.Scalar();
      if (std::find(std::begin(keys), std::end(keys), key) == std::end(keys))
        diagnostics.error(source.locate(kv.first, child_path(path, key)), child_path(path, key),
                          "unknown key" + did_you_mean(key, keys) + "; a callback has plugin and init_args");
    }
    const YAML::Node plugin = item["plugin"];
    if (!plugin || !plugin.IsScalar() || plugin.Scalar().empty()) {
      diagnostics.error(source.locate(plugin ? plugin : item, path + ".plugin"), path + ".plugin",
                        "expected a plugin name (see `minitrain plugins`) or a path to a .so");
      continue;
    }
    YAML::Node init_args = item["init_args"];
    if (init_args && !init_args.IsNull() && !init_args.IsMap()) {
      diagnostics.error(source.locate(init_args, path + ".init_args"), path + ".init_args",
                        "expected a mapping of argument: value, got " + describe(init_args));
      continue;
    }
    if (!init_args || init_args.IsNull()) item["init_args"] = YAML::Node(YAML::NodeType::Map);
    callbacks.push_back({plugin.Scalar(), item["init_args"], path, source.locate(plugin, path + ".plugin")});
  }
}

// A `{class_path: NAME, init_args: {...}}` section, LightningCLI's shape: the
// class is one of `choices`, its init_args are checked against that class's
// table and its range checks. Empty when the class itself is missing or wrong.
struct Component {
  std::string class_path;
  PluginArgs init_args;
};

std::optional<Component> load_component(YAML::Node node, const std::string& yaml_path, const char* choices,
                                        std::span<const ParamSpec> (*table)(const std::string&),
                                        std::vector<ArgProblem> (*problems)(const std::string&, const PluginArgs&),
                                        const JobSource& source, Diagnostics& diagnostics) {
  const ParamSpec class_spec[] = {{"class_path", ParamType::Enum, nullptr, "which one", choices}};
  const PluginArgs top = validate_params(node, class_spec, yaml_path, source, diagnostics, kComponentSections);
  if (!top.has("class_path") || !node.IsMap()) return std::nullopt;
  Component component{top.string("class_path"), {}};
  YAML::Node init_args = section(node, "init_args");
  const std::string args_path = yaml_path + ".init_args";
  component.init_args = validate_params(init_args, table(component.class_path), args_path, source, diagnostics);
  if (problems) report_arg_problems(problems(component.class_path, component.init_args), init_args, args_path, source, diagnostics);
  return component;
}

std::span<const ParamSpec> model_params(const std::string& class_path) { return find_model_kind(class_path)->params; }

std::vector<ArgProblem> model_arg_problems(const std::string& class_path, const PluginArgs& args) {
  const ModelKind* kind = find_model_kind(class_path);
  return kind->problems ? kind->problems(args) : std::vector<ArgProblem>{};
}

// A kind named by its own key (torchscript: FILE), else class_path with init_args.
void load_model(YAML::Node root, JobConfig& job, Diagnostics& diagnostics) {
  const bool missing = !root["model"] || root["model"].IsNull();
  YAML::Node model = section(root, "model");
  if (missing) {
    diagnostics.error(job.source.locate(root, ""), "model",
                      "missing; name the model with class_path: protein_encoder, torchscript: FILE or exported: FILE");
    return;
  }
  for (const ModelKind& kind : model_kinds()) {
    if (!kind.named_by_key || !model.IsMap() || !model[kind.name]) continue;
    job.model = {&kind, validate_params(model, kind.params, "model", job.source, diagnostics)};
    if (kind.problems) report_arg_problems(kind.problems(job.model.init_args), model, "model", job.source, diagnostics);
    return;
  }
  if (auto component = load_component(model, "model", model_class_paths(), model_params, model_arg_problems, job.source,
                                       diagnostics))
    job.model = {find_model_kind(component->class_path), component->init_args};
}

}  // namespace

JobConfig load_job_config(const std::vector<fs::path>& files, const std::vector<std::string>& overrides,
                          Diagnostics& diagnostics) {
  JobConfig job;
  YAML::Node root = load_job_files(files, job.source, diagnostics);
  for (const auto& argument : overrides) apply_override(root, argument, job.source, diagnostics);
  job.resolved = root;

  const PluginArgs top = validate_params(root, kJobParams, "", job.source, diagnostics, kJobSections);
  job.seed_everything = top.optional_integer("seed_everything");
  if (top.has("ckpt_path")) job.ckpt_path = top.string("ckpt_path");

  YAML::Node trainer = section(root, "trainer");
  job.trainer = trainer_settings(validate_params(trainer, kTrainerParams, "trainer", job.source, diagnostics, kTrainerSections));
  if (trainer.IsMap()) load_callbacks(trainer, job.source, diagnostics, job.callbacks);

  load_model(root, job, diagnostics);
  if (root["optimizer"] && !root["optimizer"].IsNull()) {
    if (auto optimizer = load_component(root["optimizer"], "optimizer", kOptimizerNames, optimizer_params,
                                        optimizer_arg_problems, job.source, diagnostics))
      job.optimizer = OptimizerConfig{optimizer->class_path, optimizer->init_args};
  }
  if (root["lr_scheduler"] && !root["lr_scheduler"].IsNull()) {
    if (auto schedule = load_component(root["lr_scheduler"], "lr_scheduler", kScheduleNames, schedule_params, nullptr,
                                       job.source, diagnostics))
      job.lr_scheduler = ScheduleConfig{schedule->class_path, schedule->init_args};
  }

  YAML::Node data = section(root, "data");
  if (data.IsMap()) {
    // Jobs written before datasets had sections put fasta: directly under data.
    for (const DatasetKind& kind : dataset_kinds()) {
      const char* format = kind.name;
      if (!data[format]) continue;
      const std::string path = std::string("data.") + format;
      diagnostics.error(job.source.locate(data[format], path), path,
                        fmt::format("a dataset goes under data.train, data.val or data.predict, e.g. data: {{predict: {{{}: ...}}}}",
                                    format));
      data.remove(format);
    }
  }
  const PluginArgs d = validate_params(data, kDataParams, "data", job.source, diagnostics, kDataSections);
  if (d.has("batch_size")) job.data.batch_size = d.integer("batch_size");
  if (d.has("shuffle")) job.data.shuffle = d.boolean("shuffle");
  if (d.has("drop_last")) job.data.drop_last = d.boolean("drop_last");
  if (d.has("prefetch_batches")) job.data.prefetch_batches = d.integer("prefetch_batches");
  if (data.IsMap()) {
    for (auto [name, slot] : {std::pair{"train", &job.data.train}, std::pair{"val", &job.data.val},
                              std::pair{"predict", &job.data.predict}}) {
      if (data[name] && !data[name].IsNull())
        *slot = load_dataset_config(data[name], std::string("data.") + name, job.source, diagnostics);
    }
    if (job.data.train && job.data.train->max_tokens)
      diagnostics.error(job.source.locate(data["train"]["max_tokens"], "data.train.max_tokens"), "data.train.max_tokens",
                        "packs predict and validation batches by length; training batches keep batch_size, so shuffled "
                        "steps stay alike (drop it here, or set it on data.val and data.predict)");
  }
  return job;
}

JobConfig load_job_config(const fs::path& file, const std::vector<std::string>& overrides, Diagnostics& diagnostics) {
  return load_job_config(std::vector<fs::path>{file}, overrides, diagnostics);
}

std::string to_yaml(const JobConfig& job) {
  YAML::Emitter out;
  out << job.resolved;
  return std::string(out.c_str()) + "\n";
}

}  // namespace minitrain
