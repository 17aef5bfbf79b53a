#include "job_runner.hpp"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>

#include <chrono>
#include <iostream>
#include <map>
#include <span>

#include "minitrain/core/callback_list.hpp"
#include "minitrain/io/checkpoint.hpp"
#include "minitrain/job/config.hpp"
#include "minitrain/job/model_inputs.hpp"
#include "minitrain/base/diagnostics.hpp"
#include "minitrain/distributed/distributed.hpp"
#include "minitrain/base/interrupt.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/plugin_host/plugin_loader.hpp"
#include "minitrain/base/runtime_info.hpp"
#include "minitrain/base/sha256.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/core/trainer.hpp"
#include "minitrain/io/training_checkpoint.hpp"

namespace minitrain::cli {

namespace fs = std::filesystem;

namespace {

struct CheckedCallback {
  LoadedPlugin plugin;
  PluginArgs args;
  const CallbackSpec* spec;  // where the job names it, for a plugin that fails to start
};

// Two callbacks writing into one directory would write the same files (the
// same names, for the same rank) over each other.
void check_output_dirs(const std::vector<CheckedCallback>& callbacks, const JobConfig& job, Diagnostics& diagnostics) {
  std::map<fs::path, std::string> owner;  // directory, the callback that writes into it
  for (const CheckedCallback& callback : callbacks) {
    const PluginInfo& info = callback.plugin.info();
    for (const ParamSpec& param : std::span(info.params, info.num_params)) {
      if (param.type != ParamType::OutputDir || !callback.args.has(param.name)) continue;
      std::error_code ec;
      fs::path dir = fs::weakly_canonical(fs::absolute(callback.args.string(param.name)), ec).lexically_normal();
      if (!dir.has_filename()) dir = dir.parent_path();  // out/ is out
      const auto [it, first] = owner.emplace(dir, callback.spec->yaml_path);
      if (first) continue;
      const std::string path = fmt::format("{}.init_args.{}", callback.spec->yaml_path, param.name);
      diagnostics.error(job.source.locate(callback.spec->init_args[param.name], path), path,
                        fmt::format("{} writes into {} too; the two would write the same files over each other\n  fix: "
                                    "give each callback its own {}",
                                    it->second, dir.string(), param.name));
    }
  }
}

std::vector<CheckedCallback> check_callbacks(const JobConfig& job, const PluginLoader& loader, Diagnostics& diagnostics) {
  std::vector<CheckedCallback> checked;
  for (const CallbackSpec& spec : job.callbacks) {
    try {
      LoadedPlugin plugin = loader.load(spec.plugin);
      const PluginInfo& info = plugin.info();
      PluginArgs args = validate_params(spec.init_args, std::span(info.params, info.num_params),
                                        spec.yaml_path + ".init_args", job.source, diagnostics);
      checked.push_back({std::move(plugin), std::move(args), &spec});
    } catch (const PluginError& e) {
      diagnostics.error(spec.where, spec.yaml_path + ".plugin", e.what());
    }
  }
  check_output_dirs(checked, job, diagnostics);
  return checked;
}

// The dataset a stage reads, for messages: fit trains on data.train, and so on.
const char* dataset_key(Stage stage) {
  switch (stage) {
    case Stage::fit: return "train";
    case Stage::validate: return "val";
    case Stage::predict: return "predict";
  }
  return "?";
}

const std::optional<DatasetConfig>& stage_dataset(const JobConfig& job, Stage stage) {
  return stage == Stage::fit ? job.data.train : stage == Stage::validate ? job.data.val : job.data.predict;
}

// What each value is fine on its own but the job does not fit together.
void check_job_fits_stage(const JobConfig& job, Stage stage, Diagnostics& diagnostics) {
  const YAML::Node data = job.resolved["data"];
  const std::string key = dataset_key(stage);
  if (!stage_dataset(job, stage) && (!data[key] || data[key].IsNull())) {
    diagnostics.error(job.source.locate(data, "data"), "data." + key,
                      fmt::format("{} needs a dataset under data.{}, e.g. data: {{{}: {{fasta: seqs.fa}}}}", to_string(stage),
                                  key, key));
  }
  const YAML::Node model = job.resolved["model"];
  const ModelKind* kind = job.model.kind;
  if (kind && !kind->trainable) {
    if (stage == Stage::fit)
      diagnostics.error(job.source.locate(model[kind->name], "model." + std::string(kind->name)), "model",
                        fmt::format("an {} model cannot be trained: its weights are compiled into the package; fit the "
                                    "Python model (or a TorchScript copy of it) and export it again",
                                    kind->name));
    if (job.ckpt_path)
      diagnostics.error(job.source.locate(job.resolved["ckpt_path"], "ckpt_path"), "ckpt_path",
                        fmt::format("an {} model's weights are compiled into its package and cannot be replaced; drop "
                                    "ckpt_path, or load these weights in Python and export again",
                                    kind->name));
  }
  if (kind && stage != Stage::predict && (kind->trainable || stage != Stage::fit)) {
    if (!kind->has_own_loss && !job.model.init_args.has("loss"))
      diagnostics.error(job.source.locate(model, "model"), "model.loss",
                        fmt::format("{} needs a loss for the {} model: cross_entropy, mse or module", to_string(stage),
                                    kind->name));
    if (stage == Stage::fit && !kind->has_own_optimizer && !job.optimizer)
      diagnostics.error(job.source.locate(model, "model"), "optimizer",
                        fmt::format("a {} model brings no optimizer; add one, e.g. optimizer: {{class_path: adam, "
                                    "init_args: {{lr: 0.001}}}}",
                                    kind->name));
  }
  if (job.model.init_args.has("max_positions")) {
    const std::int64_t max_positions = job.model.init_args.integer("max_positions");
    for (const auto* dataset : {&job.data.train, &job.data.val, &job.data.predict}) {
      if (!*dataset || !(*dataset)->args.has("max_length")) continue;
      const std::vector<std::string> fields = (*dataset)->kind->fields((*dataset)->args);
      const bool tokenized = std::find(fields.begin(), fields.end(), "input_ids") != fields.end();
      if (!tokenized || (*dataset)->args.integer("max_length") <= max_positions) continue;
      const std::string section = (*dataset)->yaml_path.substr(std::string("data.").size());
      const std::string path = (*dataset)->yaml_path + ".max_length";
      diagnostics.error(job.source.locate(data[section]["max_length"], path), path,
                        fmt::format("{} is longer than model.init_args.max_positions ({}); lower it or raise max_positions",
                                    (*dataset)->args.integer("max_length"), max_positions));
    }
  }
}

// Training data is split evenly over ranks (padded by repeats, so every rank
// takes as many steps); validation and predict data give every sample to one rank.
std::unique_ptr<DataLoader> make_loader(const JobConfig& job, const DatasetConfig& dataset, bool training,
                                        const DistributedEnv& env) {
  const std::int64_t batch_size = dataset.batch_size.value_or(job.data.batch_size);
  auto loader = std::make_unique<DataLoader>(
      make_dataset(dataset), DataLoaderOptions{batch_size, training && job.data.shuffle, training && job.data.drop_last,
                                               static_cast<std::uint64_t>(job.seed_everything.value_or(0)),
                                               Shard{env.rank, env.world_size, training}, dataset.max_tokens.value_or(0),
                                               job.data.prefetch_batches});
  if (dataset.yaml_path == "data.val" && loader->dataset().size() < env.world_size)
    throw DataError(fmt::format("{} has {} samples, fewer than the {} ranks; every rank needs at least one to validate",
                                dataset.yaml_path, loader->dataset().size(), env.world_size));
  const std::string batches = dataset.max_tokens ? fmt::format("{} batches of up to {} tokens", loader->num_batches(),
                                                                *dataset.max_tokens)
                                                  : fmt::format("{} batches of up to {}", loader->num_batches(), batch_size);
  log::info(fmt::format("{}: {} samples from {}, {}{}", dataset.yaml_path, loader->dataset().size(), describe(dataset),
                        batches, env.world_size > 1 ? fmt::format(" on each of {} ranks", env.world_size) : ""));
  return loader;
}

// trainer.devices x trainer.num_nodes is the world size the job expects.
void check_job_fits_ranks(const JobConfig& job, const DistributedEnv& env, Diagnostics& diagnostics) {
  const std::int64_t expected = job.trainer.devices * job.trainer.num_nodes;
  if (expected == env.world_size) return;
  diagnostics.error(job.source.locate(job.resolved["trainer"]["devices"], "trainer.devices"), "trainer.devices",
                    fmt::format("devices ({}) x num_nodes ({}) is {} processes, but WORLD_SIZE is {}; start {} ranks "
                                "(minitrain launch --nproc {}) or set trainer.devices to match",
                                job.trainer.devices, job.trainer.num_nodes, expected, env.world_size, expected,
                                job.trainer.devices));
}

c10::Device choose_device(const JobConfig& job) {
  const std::string& accelerator = job.trainer.accelerator;
  if (accelerator == "cpu") return c10::Device(c10::kCPU);
  const bool cuda = torch::cuda::is_available();
  if (accelerator == "cuda" && !cuda) {
    Diagnostics diagnostics;
    diagnostics.error(job.source.locate(job.resolved["trainer"]["accelerator"], "trainer.accelerator"), "trainer.accelerator",
                      "cuda was asked for, but this LibTorch sees no CUDA device; use cpu or auto, or build against a "
                      "CUDA LibTorch");
    diagnostics.throw_if_any();
  }
  return c10::Device(cuda ? c10::kCUDA : c10::kCPU);
}

// Which job and which weights: the resolved job's text, and the file the weights come from.
RunIdentity identity_of(const JobConfig& job, const std::string& job_yaml) {
  RunIdentity identity;
  identity.job_sha256 = sha256_hex(job_yaml);
  const ModelKind& kind = *job.model.kind;
  identity.model = kind.name;
  if (job.ckpt_path)
    identity.weights_file = job.ckpt_path->string();
  else if (kind.carries_weights)
    identity.weights_file = job.model.init_args.string(kind.name);
  if (!identity.weights_file.empty()) identity.weights_sha256 = file_sha256_hex(identity.weights_file);
  return identity;
}

// A short line per epoch, so a run shows it is alive and how it is going.
std::vector<boost::signals2::scoped_connection> connect_run_log(Events& events) {
  std::vector<boost::signals2::scoped_connection> connections;
  connections.emplace_back(events.train_epoch_end.connect([](const TrainEpochEnd& e) {
    log::info(fmt::format("epoch {} done: {}", e.epoch, format_metrics(e.metrics)));
  }));
  connections.emplace_back(events.predict_end.connect([](const PredictEnd& e) {
    log::info(fmt::format("predict done: {} batches", e.num_batches));
  }));
  return connections;
}

}  // namespace

void run_job(const JobRequest& request) {
  const DistributedEnv env = distributed_env();
  log::set_rank(env.rank, env.world_size);
  Diagnostics diagnostics;
  JobConfig job = load_job_config(request.configs, request.overrides, diagnostics);
  const PluginLoader loader;
  std::vector<CheckedCallback> callbacks = check_callbacks(job, loader, diagnostics);
  check_job_fits_stage(job, request.stage, diagnostics);
  choose_model_inputs(job, request.stage, diagnostics);
  check_job_fits_ranks(job, env, diagnostics);
  diagnostics.throw_if_any();
  if (request.print_config) {
    std::cout << to_yaml(job);
    return;
  }

  log::info(runtime_summary());
  // Every rank has checked the same job above, so a bad one stops them all before any waits for the others.
  std::unique_ptr<Communicator> communicator;
  if (env.world_size > 1) {
    const auto rendezvous_start = std::chrono::steady_clock::now();
    communicator = std::make_unique<Communicator>(env, std::chrono::seconds(job.trainer.distributed_timeout_s));
    const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - rendezvous_start;
    log::info(fmt::format("{} ranks met at {}:{} in {:.2f} s", env.world_size, env.master_addr, env.master_port, waited.count()));
  }
  // From here on a signal stops the run at a batch boundary; before, it ends the process at once.
  install_interrupt_handlers();
  const c10::Device device = choose_device(job);
  if (job.seed_everything) at::manual_seed(static_cast<std::uint64_t>(*job.seed_everything));

  std::unique_ptr<DataLoader> main_loader =
      make_loader(job, *stage_dataset(job, request.stage), request.stage == Stage::fit, env);
  choose_model_inputs(job, request.stage, *stage_dataset(job, request.stage), main_loader->dataset());
  std::unique_ptr<DataLoader> val_loader;
  if (request.stage == Stage::fit && job.data.val) {
    val_loader = make_loader(job, *job.data.val, false, env);
    choose_model_inputs(job, request.stage, *job.data.val, val_loader->dataset());
  }
  std::unique_ptr<Module> module = job.model.kind->make(job.model.init_args);

  // fit with a training checkpoint goes on where it stopped; bare weights only start from there.
  std::optional<LoadedCheckpoint> resume;
  const fs::path checkpoint_dir = job.trainer.default_root_dir / "checkpoints";
  std::optional<fs::path> ckpt_path = job.ckpt_path;
  if (request.stage == Stage::fit && env.restart_count > 0) {
    // A restarted fit goes on from the last epoch the failed attempt finished, as Lightning's ckpt_path="last".
    if (fs::exists(checkpoint_dir / "last.pt"))
      ckpt_path = checkpoint_dir / "last.pt";
    else
      log::warn(fmt::format("restart {}: no {} yet, so fit starts from the beginning again", env.restart_count,
                            (checkpoint_dir / "last.pt").string()));
  }
  if (ckpt_path) {
    LoadedCheckpoint loaded{load_pickled(*ckpt_path), *ckpt_path};
    if (request.stage == Stage::fit && is_training_checkpoint(loaded.value)) {
      log::info(fmt::format("resuming fit from {}", ckpt_path->string()));
      resume = std::move(loaded);
    } else {
      load_weights(module->network(), loaded.value, loaded.file);
      log::info(fmt::format("loaded weights from {}", ckpt_path->string()));
    }
  } else if (request.stage != Stage::fit && !job.model.kind->carries_weights) {
    log::warn(fmt::format("no ckpt_path in the job: {} runs with the model's initial weights", to_string(request.stage)));
  }

  // Events outlive the callbacks, which disconnect as they die.
  Events events;
  CallbackList live_callbacks;
  for (const CheckedCallback& checked : callbacks) {
    try {
      live_callbacks.add(checked.plugin.info().name, checked.plugin.create(checked.args));
    } catch (const PluginError& e) {
      throw PluginError(Diagnostic{checked.spec->where, checked.spec->yaml_path, e.what()}.format());
    }
  }
  events.control.set_job_yaml(to_yaml(job));
  events.control.set_identity([&job, &control = events.control] { return identity_of(job, control.job_yaml()); });
  if (communicator)
    events.control.set_gatherer([&communicator](const std::string& text) {
      return communicator->all_gather(text, "gathering every rank's list of files");
    });
  live_callbacks.connect(events);
  const auto run_log = connect_run_log(events);

  TrainerOptions options;
  static_cast<TrainerSettings&>(options) = job.trainer;
  options.device = device;
  options.optimizer = job.optimizer;
  options.lr_scheduler = job.lr_scheduler;
  options.callbacks = &live_callbacks;
  options.global_rank = env.rank;
  options.world_size = env.world_size;
  options.communicator = communicator.get();
  const bool writes_checkpoints = request.stage == Stage::fit && env.rank == 0;  // the ranks' weights are equal
  if (request.stage == Stage::fit) options.resume_from = std::move(resume);
  if (writes_checkpoints) {
    fs::create_directories(checkpoint_dir);
    options.checkpoint_path = checkpoint_dir / "last.pt";
  }
  Trainer trainer(options, events);
  switch (request.stage) {
    case Stage::fit: {
      trainer.fit(*module, *main_loader, val_loader.get());
      if (!writes_checkpoints) break;
      const fs::path weights = checkpoint_dir / "weights.pt";
      save_weights(module->network(), weights);
      log::info(fmt::format("training checkpoint (resume with --ckpt_path) at {}; weights ({{name: tensor}}) at {}",
                            options.checkpoint_path->string(), weights.string()));
      break;
    }
    case Stage::validate:
      log::info(fmt::format("validation: {}", format_metrics(trainer.validate(*module, *main_loader))));
      break;
    case Stage::predict:
      trainer.predict(*module, *main_loader);
      break;
  }
}

namespace {

void print_params(std::span<const ParamSpec> params) {
  for (const ParamSpec& p : params) {
    std::string type = to_string(p.type);
    if (p.type == ParamType::Enum && p.choices) type = std::string(p.choices);
    const std::string range = describe(p.range);
    std::cout << fmt::format("    {:<24} {:<24} {:<12} {}{}\n", p.name, type,
                             p.default_value ? fmt::format("= {}", p.default_value) : "(required)", p.doc,
                             range.empty() ? "" : fmt::format(" ({})", range));
  }
}

}  // namespace

void list_plugins() {
  const PluginLoader loader;
  std::vector<std::string> problems;
  const auto plugins = loader.discover(&problems);
  std::cout << "Plugin search path (in order):\n";
  for (const auto& dir : loader.search_dirs()) std::cout << "  " << dir.string() << "\n";
  std::cout << "\n";
  if (plugins.empty()) std::cout << "No plugins found.\n";
  for (const LoadedPlugin& plugin : plugins) {
    const PluginInfo& info = plugin.info();
    std::cout << fmt::format("{} {}  ({})\n  {}\n", info.name, info.version, plugin.path().string(), info.description);
    print_params(std::span(info.params, info.num_params));
    std::cout << "\n";
  }
  for (const auto& problem : problems) std::cout << "skipped: " << problem << "\n";

  std::cout << "Built-in models (model: {class_path: NAME, init_args: {...}}, or model: {NAME: FILE, ...}):\n";
  for (const ModelKind& kind : model_kinds()) {
    std::cout << fmt::format("{}\n  {}\n", kind.name, kind.description);
    print_params(kind.params);
  }
  std::cout << "\nDataset formats (data.train, data.val, data.predict: {FORMAT: FILE or size, ...}):\n";
  for (const DatasetKind& kind : dataset_kinds()) {
    std::cout << fmt::format("{}\n  {}\n", kind.name, kind.description);
    print_params(kind.params);
  }
}

}  // namespace minitrain::cli
