#include "minitrain/job/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <charconv>
#include <regex>

#include "minitrain/models/optimization.hpp"
#include "minitrain/models/protein_encoder.hpp"
#include "minitrain/models/scripted_module.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

constexpr ParamSpec kJobParams[] = {
    {"seed_everything", ParamType::Int, "null", "seed for weights init, masking and shuffling", nullptr},
    {"ckpt_path", ParamType::Path, "null", "weights to load before fit or predict", nullptr},
};
const std::string kJobSections[] = {"trainer", "model", "data", "optimizer", "lr_scheduler"};

constexpr ParamSpec kTrainerParams[] = {
    {"max_epochs", ParamType::Int, "1", "epochs to train", nullptr},
    {"limit_train_batches", ParamType::Int, "null", "train batches per epoch (null: all)", nullptr},
    {"limit_val_batches", ParamType::Int, "null", "validation batches per validation (null: all)", nullptr},
    {"check_val_every_n_epoch", ParamType::Int, "1", "validate after every Nth training epoch", nullptr},
    {"limit_predict_batches", ParamType::Int, "null", "predict batches (null: all)", nullptr},
    {"accelerator", ParamType::Enum, "cpu", "where the model runs", "cpu|cuda|auto"},
    {"devices", ParamType::Int, "1", "processes per machine (minitrain launch starts them)", nullptr},
    {"num_nodes", ParamType::Int, "1", "machines; devices x num_nodes must equal WORLD_SIZE", nullptr},
    {"distributed_timeout_s", ParamType::Int, "1800", "how long a rank waits for the others before it fails", nullptr},
    {"default_root_dir", ParamType::Path, "runs", "where fit writes checkpoints/last.pt", nullptr},
    {"gradient_clip_val", ParamType::Float, "null", "clip the gradients' total norm to this (null: no clipping)", nullptr},
    {"accumulate_grad_batches", ParamType::Int, "1", "take an optimizer step every N batches", nullptr},
    {"on_nonfinite_loss", ParamType::Enum, "error", "a NaN or infinite training loss: stop with an error, or skip the batch",
     "error|skip_batch"},
};
const std::string kTrainerSections[] = {"callbacks"};

const std::string kComponentSections[] = {"init_args"};

constexpr ParamSpec kDataParams[] = {
    {"batch_size", ParamType::Int, "8", "samples per batch", nullptr},
    {"shuffle", ParamType::Bool, "false", "reshuffle the training samples every epoch (seeded)", nullptr},
    {"drop_last", ParamType::Bool, "false", "drop a last incomplete training batch", nullptr},
};
const std::string kDataSections[] = {"train", "val", "predict"};

std::vector<std::string> split_choices(const char* choices) {
  std::vector<std::string> out;
  std::string current;
  for (const char* c = choices; c && *c; ++c) {
    if (*c == '|') {
      out.push_back(current);
      current.clear();
    } else {
      current += *c;
    }
  }
  out.push_back(current);
  return out;
}

std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsScalar()) return fmt::format("'{}'", node.Scalar());
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// Converts one value to its declared type, or says what was expected.
std::optional<ParamValue> convert(const YAML::Node& node, const ParamSpec& spec, std::string& problem) {
  const bool optional = spec.default_value && std::string(spec.default_value) == "null";
  if (node.IsNull()) {
    if (optional) return ParamValue{};
    problem = fmt::format("expected {}, got null", spec.type == ParamType::Enum ? "a value" : to_string(spec.type));
    return std::nullopt;
  }
  switch (spec.type) {
    case ParamType::Int: {
      std::int64_t v;
      if (node.IsScalar() && YAML::convert<std::int64_t>::decode(node, v)) return ParamValue{v};
      problem = fmt::format("expected an integer, got {}", describe(node));
      return std::nullopt;
    }
    case ParamType::Float: {
      double v;
      if (node.IsScalar() && YAML::convert<double>::decode(node, v)) return ParamValue{v};
      problem = fmt::format("expected a number, got {}", describe(node));
      return std::nullopt;
    }
    case ParamType::Bool: {
      bool v;
      if (node.IsScalar() && YAML::convert<bool>::decode(node, v)) return ParamValue{v};
      problem = fmt::format("expected true or false, got {}", describe(node));
      return std::nullopt;
    }
    case ParamType::String:
    case ParamType::Path: {
      if (node.IsScalar() && !node.Scalar().empty()) return ParamValue{node.Scalar()};
      problem = fmt::format("expected a {}, got {}", to_string(spec.type), describe(node));
      return std::nullopt;
    }
    case ParamType::Enum: {
      const auto choices = split_choices(spec.choices);
      if (node.IsScalar() && std::find(choices.begin(), choices.end(), node.Scalar()) != choices.end())
        return ParamValue{node.Scalar()};
      problem = fmt::format("expected one of {}, got {}", fmt::join(choices, ", "), describe(node));
      if (node.IsScalar()) problem += did_you_mean(node.Scalar(), choices);
      return std::nullopt;
    }
    case ParamType::StringIntMap: {
      if (!node.IsMap()) {
        problem = fmt::format("expected a mapping of name: integer, got {}", describe(node));
        return std::nullopt;
      }
      StringIntMap out;
      for (const auto& item : node) {
        std::int64_t v;
        if (!item.second.IsScalar() || !YAML::convert<std::int64_t>::decode(item.second, v)) {
          problem = fmt::format("expected an integer for key '{}', got {}", item.first.Scalar(), describe(item.second));
          return std::nullopt;
        }
        out[item.first.Scalar()] = v;
      }
      return ParamValue{out};
    }
    case ParamType::StringList: {
      if (!node.IsSequence()) {
        problem = fmt::format("expected a list of names, got {}", describe(node));
        return std::nullopt;
      }
      StringList out;
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          problem = fmt::format("expected a list of names, got {} in it", describe(item));
          return std::nullopt;
        }
        out.push_back(item.Scalar());
      }
      return ParamValue{out};
    }
  }
  problem = "unsupported parameter type";
  return std::nullopt;
}

// Splits "trainer.callbacks[0].init_args" into ("trainer"), ("callbacks", 0), ...
struct PathStep {
  std::string key;
  std::optional<std::size_t> index;
};

std::optional<std::vector<PathStep>> parse_override_path(const std::string& path) {
  static const std::regex step(R"(^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$)");
  std::vector<PathStep> steps;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::smatch m;
    if (!std::regex_match(part, m, step)) return std::nullopt;
    PathStep s{m[1].str(), std::nullopt};
    if (m[2].matched) {
      std::size_t index = 0;
      const std::string digits = m[2].str();
      if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec != std::errc()) return std::nullopt;
      s.index = index;  // an index too large for size_t is no key path, not an exception
    }
    steps.push_back(s);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return steps;
}

void apply_override(YAML::Node root, const std::string& argument, JobSource& source, Diagnostics& diagnostics) {
  const SourceLocation where{fmt::format("command line ({})", argument)};
  std::string text = argument.rfind("--", 0) == 0 ? argument.substr(2) : argument;
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) {
    diagnostics.error(where, "", "expected --key.path=value, e.g. --trainer.max_epochs=3");
    return;
  }
  const std::string path = text.substr(0, eq);
  const auto steps = parse_override_path(path);
  if (!steps) {
    diagnostics.error(where, "", fmt::format("'{}' is not a key path; write it like trainer.callbacks[0].init_args.output_dir", path));
    return;
  }
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    diagnostics.error(where, path, fmt::format("value is not valid YAML: {}", e.msg));
    return;
  }
  YAML::Node current;
  current.reset(root);
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const PathStep& s = (*steps)[i];
    const bool last = i + 1 == steps->size();
    if (current.IsDefined() && !current.IsNull() && !current.IsMap()) {
      diagnostics.error(where, path, fmt::format("cannot set '{}': its parent is not a mapping", s.key));
      return;
    }
    if (last && !s.index) {
      current[s.key] = value;
      break;
    }
    YAML::Node next = current[s.key];
    if (s.index) {
      if (!next.IsSequence() || *s.index >= next.size()) {
        diagnostics.error(where, path, fmt::format("'{}' has no item [{}]", s.key, *s.index));
        return;
      }
      if (last) {
        next[*s.index] = value;
        break;
      }
      YAML::Node item = next[*s.index];
      current.reset(item);
    } else {
      current.reset(next);
    }
  }
  source.add_override(path, argument);
}

void require_at_least(const PluginArgs& args, const char* name, std::int64_t minimum, const YAML::Node& map,
                      const std::string& yaml_path, const JobSource& source, Diagnostics& diagnostics) {
  if (!args.has(name)) return;
  if (!std::holds_alternative<std::int64_t>(args.values().at(name))) return;
  const std::int64_t value = args.integer(name);
  if (value < minimum) {
    const std::string path = child_path(yaml_path, name);
    diagnostics.error(source.locate(map[name], path), path, fmt::format("must be at least {}, got {}", minimum, value));
  }
}

template <class T>
std::optional<T> optional_value(const PluginArgs& args, const char* name, T (PluginArgs::*get)(const std::string&) const) {
  if (!args.has(name)) return std::nullopt;
  return (args.*get)(name);
}

YAML::Node section(YAML::Node parent, const std::string& key) {
  if (!parent[key]) parent[key] = YAML::Node(YAML::NodeType::Map);
  return parent[key];
}

void load_callbacks(YAML::Node trainer, const JobSource& source, Diagnostics& diagnostics, TrainerConfig& config) {
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
    config.callbacks.push_back({plugin.Scalar(), item["init_args"], path, source.locate(plugin, path + ".plugin")});
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
  const std::size_t before = diagnostics.items().size();
  component.init_args = validate_params(init_args, table(component.class_path), args_path, source, diagnostics);
  if (diagnostics.items().size() == before) {
    for (const ArgProblem& problem : problems(component.class_path, component.init_args)) {
      const std::string path = args_path + "." + problem.key;
      diagnostics.error(source.locate(init_args[problem.key], path), path, problem.message);
    }
  }
  return component;
}

std::span<const ParamSpec> model_params(const std::string&) { return kProteinEncoderParams; }

std::vector<ArgProblem> model_arg_problems(const std::string&, const PluginArgs& args) {
  std::vector<ArgProblem> problems;
  for (const char* name : {"embed_dim", "num_layers", "num_heads", "ff_dim", "max_positions"}) {
    if (args.integer(name) < 1) problems.push_back({name, fmt::format("must be at least 1, got {}", args.integer(name))});
  }
  if (!problems.empty()) return problems;
  return protein_encoder_arg_problems(args);
}

}  // namespace

void JobSource::add_override(const std::string& yaml_path, const std::string& argument) {
  overrides_[yaml_path] = argument;
}

SourceLocation JobSource::locate(const YAML::Node& node, const std::string& yaml_path) const {
  for (const auto& [path, argument] : overrides_) {
    if (yaml_path == path || yaml_path.rfind(path + ".", 0) == 0 || yaml_path.rfind(path + "[", 0) == 0)
      return {fmt::format("command line ({})", argument)};
  }
  const YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
  if (mark.is_null()) return {file_.string()};
  return {file_.string(), mark.line + 1, mark.column + 1};
}

PluginArgs validate_params(YAML::Node args, std::span<const ParamSpec> specs, const std::string& yaml_path,
                           const JobSource& source, Diagnostics& diagnostics,
                           std::span<const std::string> ignored_keys) {
  PluginArgs out;
  if (args.IsDefined() && !args.IsNull() && !args.IsMap()) {
    diagnostics.error(source.locate(args, yaml_path), yaml_path, "expected a mapping, got " + describe(args));
    return out;
  }
  std::vector<std::string> known;
  for (const auto& spec : specs) known.emplace_back(spec.name);
  known.insert(known.end(), ignored_keys.begin(), ignored_keys.end());
  if (args.IsMap()) {
    for (const auto& kv : args) {
      const std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const std::string path = child_path(yaml_path, key);
      const std::string hint = did_you_mean(key, known);
      diagnostics.error(source.locate(kv.first, path), path,
                        "unknown key" + (hint.empty() ? fmt::format("; expected one of {}", fmt::join(known, ", ")) : hint));
    }
  }
  for (const auto& spec : specs) {
    const std::string path = child_path(yaml_path, spec.name);
    YAML::Node node = args.IsMap() ? args[spec.name] : YAML::Node();
    if (!node.IsDefined()) {
      if (!spec.default_value) {
        diagnostics.error(source.locate(args, yaml_path), path,
                          spec.type == ParamType::Enum
                              ? fmt::format("missing required key; expected one of {}", fmt::join(split_choices(spec.choices), ", "))
                              : fmt::format("missing required key ({}: {})", to_string(spec.type), spec.doc));
        continue;
      }
      node = YAML::Load(spec.default_value);
      args[spec.name] = node;
    }
    std::string problem;
    if (auto value = convert(node, spec, problem)) {
      out.set(spec.name, std::move(*value));
    } else {
      diagnostics.error(source.locate(node, path), path, problem);
    }
  }
  return out;
}

JobConfig load_job_config(const fs::path& file, const std::vector<std::string>& overrides, Diagnostics& diagnostics) {
  JobConfig job;
  job.source = JobSource(file);
  if (!fs::is_regular_file(file)) {
    diagnostics.error({file.string()}, "", fs::exists(file) ? "job file is not a regular file"
                                                             : "job file not found; pass an existing YAML file to --config");
    diagnostics.throw_if_any();  // nothing further can be checked
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    diagnostics.error({file.string(), e.mark.line + 1, e.mark.column + 1}, "", "invalid YAML: " + e.msg);
    diagnostics.throw_if_any();
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    diagnostics.error(job.source.locate(root, ""), "", "a job file is a mapping with trainer, model and data sections");
    diagnostics.throw_if_any();
  }
  for (const auto& argument : overrides) apply_override(root, argument, job.source, diagnostics);
  job.resolved = root;

  const PluginArgs top = validate_params(root, kJobParams, "", job.source, diagnostics, kJobSections);
  job.seed_everything = optional_value(top, "seed_everything", &PluginArgs::integer);
  if (top.has("ckpt_path")) job.ckpt_path = top.string("ckpt_path");

  YAML::Node trainer = section(root, "trainer");
  const PluginArgs t = validate_params(trainer, kTrainerParams, "trainer", job.source, diagnostics, kTrainerSections);
  if (t.has("max_epochs")) job.trainer.max_epochs = t.integer("max_epochs");
  job.trainer.limit_train_batches = optional_value(t, "limit_train_batches", &PluginArgs::integer);
  job.trainer.limit_val_batches = optional_value(t, "limit_val_batches", &PluginArgs::integer);
  if (t.has("check_val_every_n_epoch")) job.trainer.check_val_every_n_epoch = t.integer("check_val_every_n_epoch");
  job.trainer.limit_predict_batches = optional_value(t, "limit_predict_batches", &PluginArgs::integer);
  if (t.has("accelerator")) job.trainer.accelerator = t.string("accelerator");
  if (t.has("devices")) job.trainer.devices = t.integer("devices");
  if (t.has("num_nodes")) job.trainer.num_nodes = t.integer("num_nodes");
  if (t.has("distributed_timeout_s")) job.trainer.distributed_timeout_s = t.integer("distributed_timeout_s");
  require_at_least(t, "devices", 1, trainer, "trainer", job.source, diagnostics);
  require_at_least(t, "num_nodes", 1, trainer, "trainer", job.source, diagnostics);
  require_at_least(t, "distributed_timeout_s", 1, trainer, "trainer", job.source, diagnostics);
  if (t.has("default_root_dir")) job.trainer.default_root_dir = t.string("default_root_dir");
  job.trainer.gradient_clip_val = optional_value(t, "gradient_clip_val", &PluginArgs::number);
  if (t.has("accumulate_grad_batches")) job.trainer.accumulate_grad_batches = t.integer("accumulate_grad_batches");
  if (t.has("on_nonfinite_loss")) job.trainer.on_nonfinite_loss = t.string("on_nonfinite_loss");
  require_at_least(t, "accumulate_grad_batches", 1, trainer, "trainer", job.source, diagnostics);
  require_at_least(t, "max_epochs", 1, trainer, "trainer", job.source, diagnostics);
  require_at_least(t, "limit_train_batches", 0, trainer, "trainer", job.source, diagnostics);
  require_at_least(t, "limit_predict_batches", 0, trainer, "trainer", job.source, diagnostics);
  require_at_least(t, "limit_val_batches", 0, trainer, "trainer", job.source, diagnostics);
  require_at_least(t, "check_val_every_n_epoch", 1, trainer, "trainer", job.source, diagnostics);
  if (trainer.IsMap()) load_callbacks(trainer, job.source, diagnostics, job.trainer);

  const bool model_missing = !root["model"] || root["model"].IsNull();
  YAML::Node model = section(root, "model");
  if (model_missing) {
    diagnostics.error(job.source.locate(root, ""), "model",
                      "missing; name the model with class_path: protein_encoder or torchscript: FILE");
  } else if (model.IsMap() && model["torchscript"]) {
    job.model = {"torchscript", validate_params(model, kScriptedModuleParams, "model", job.source, diagnostics)};
  } else if (auto component = load_component(model, "model", "protein_encoder", model_params, model_arg_problems,
                                             job.source, diagnostics)) {
    job.model = {component->class_path, component->init_args};
  }
  if (root["optimizer"] && !root["optimizer"].IsNull()) {
    if (auto optimizer = load_component(root["optimizer"], "optimizer", kOptimizerNames, optimizer_params,
                                        optimizer_arg_problems, job.source, diagnostics))
      job.optimizer = OptimizerConfig{optimizer->class_path, optimizer->init_args};
  }
  if (root["lr_scheduler"] && !root["lr_scheduler"].IsNull()) {
    if (auto schedule = load_component(root["lr_scheduler"], "lr_scheduler", kScheduleNames, schedule_params,
                                       schedule_arg_problems, job.source, diagnostics))
      job.lr_scheduler = ScheduleConfig{schedule->class_path, schedule->init_args};
  }

  YAML::Node data = section(root, "data");
  if (data.IsMap()) {
    // Jobs written before datasets had sections put fasta: directly under data.
    for (const char* format : kDatasetFormats) {
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
  require_at_least(d, "batch_size", 1, data, "data", job.source, diagnostics);
  if (data.IsMap()) {
    for (auto [name, slot] : {std::pair{"train", &job.data.train}, std::pair{"val", &job.data.val},
                              std::pair{"predict", &job.data.predict}}) {
      if (data[name] && !data[name].IsNull())
        *slot = load_dataset_config(data[name], std::string("data.") + name, job.source, diagnostics);
    }
  }
  return job;
}

std::string to_yaml(const JobConfig& job) {
  YAML::Emitter out;
  out << job.resolved;
  return std::string(out.c_str()) + "\n";
}

}  // namespace minitrain
