#include "job_runner.hpp"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>

#include <iostream>

#include "minitrain/checkpoint.hpp"
#include "minitrain/config.hpp"
#include "minitrain/fasta.hpp"
#include "minitrain/log.hpp"
#include "minitrain/plugin_loader.hpp"
#include "minitrain/protein_encoder.hpp"
#include "minitrain/runtime_info.hpp"
#include "minitrain/serialization.hpp"
#include "minitrain/trainer.hpp"
#include "minitrain/training_checkpoint.hpp"

namespace minitrain::cli {

namespace fs = std::filesystem;

namespace {

struct CheckedCallback {
  LoadedPlugin plugin;
  PluginArgs args;
};

std::vector<CheckedCallback> check_callbacks(const JobConfig& job, const PluginLoader& loader, Diagnostics& diagnostics) {
  std::vector<CheckedCallback> checked;
  for (const CallbackSpec& spec : job.trainer.callbacks) {
    try {
      LoadedPlugin plugin = loader.load(spec.plugin);
      const PluginInfo& info = plugin.info();
      PluginArgs args = validate_params(spec.init_args, std::span(info.params, info.num_params),
                                        spec.yaml_path + ".init_args", job.source, diagnostics);
      checked.push_back({std::move(plugin), std::move(args)});
    } catch (const PluginError& e) {
      diagnostics.error(spec.where, spec.yaml_path + ".plugin", e.what());
    }
  }
  return checked;
}

void check_cross_fields(const JobConfig& job, Diagnostics& diagnostics) {
  if (job.model.init_args.has("max_positions") && job.data.max_length > job.model.init_args.integer("max_positions")) {
    const YAML::Node node = job.resolved["data"]["max_length"];
    diagnostics.error(job.source.locate(node, "data.max_length"), "data.max_length",
                      fmt::format("{} is longer than model.init_args.max_positions ({}); lower it or raise max_positions",
                                  job.data.max_length, job.model.init_args.integer("max_positions")));
  }
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

// A short line per epoch, so a run shows it is alive and how it is going.
std::vector<boost::signals2::scoped_connection> connect_run_log(Events& events) {
  std::vector<boost::signals2::scoped_connection> connections;
  connections.emplace_back(events.train_epoch_end.connect([](const TrainEpochEnd& e) {
    log::info(fmt::format("epoch {} done: mean train loss {:.4f}", e.epoch, e.mean_loss));
  }));
  connections.emplace_back(events.predict_end.connect([](const PredictEnd& e) {
    log::info(fmt::format("predict done: {} batches", e.num_batches));
  }));
  return connections;
}

}  // namespace

void run_job(const JobRequest& request) {
  Diagnostics diagnostics;
  JobConfig job = load_job_config(request.config, request.overrides, diagnostics);
  const PluginLoader loader;
  std::vector<CheckedCallback> callbacks = check_callbacks(job, loader, diagnostics);
  check_cross_fields(job, diagnostics);
  diagnostics.throw_if_any();
  if (request.print_config) {
    std::cout << to_yaml(job);
    return;
  }

  log::info(runtime_summary());
  const c10::Device device = choose_device(job);
  if (job.seed_everything) at::manual_seed(static_cast<std::uint64_t>(*job.seed_everything));

  auto dataset = std::make_shared<FastaDataset>(read_fasta(job.data.fasta), job.data.max_length, job.data.padding);
  const bool shuffle = request.stage == Stage::fit && job.data.shuffle;
  DataLoader loader_data(dataset, DataLoaderOptions{job.data.batch_size, shuffle,
                                                    request.stage == Stage::fit && job.data.drop_last,
                                                    static_cast<std::uint64_t>(job.seed_everything.value_or(0))});
  std::unique_ptr<Module> module = make_protein_encoder(job.model.init_args, dataset->tokenizer().vocab_size());
  // fit with a training checkpoint goes on where it stopped; bare weights only start from there.
  std::optional<LoadedCheckpoint> resume;
  if (job.ckpt_path) {
    LoadedCheckpoint loaded{load_pickled(*job.ckpt_path), *job.ckpt_path};
    if (request.stage == Stage::fit && is_training_checkpoint(loaded.value)) {
      log::info(fmt::format("resuming fit from {}", job.ckpt_path->string()));
      resume = std::move(loaded);
    } else {
      load_weights(module->network(), loaded.value, loaded.file);
      log::info(fmt::format("loaded weights from {}", job.ckpt_path->string()));
    }
  } else if (request.stage == Stage::predict) {
    log::warn("no ckpt_path in the job: predicting with freshly initialised weights");
  }
  log::info(fmt::format("{}: {} sequences from {}, {} batches of up to {}", to_string(request.stage), dataset->size(),
               job.data.fasta.string(), loader_data.num_batches(), job.data.batch_size));

  // Events outlive the callbacks, which disconnect as they die.
  Events events;
  std::vector<std::shared_ptr<Callback>> live_callbacks;
  for (const CheckedCallback& checked : callbacks) {
    live_callbacks.push_back(checked.plugin.create(checked.args));
    live_callbacks.back()->connect(events);
  }
  const auto run_log = connect_run_log(events);

  TrainerOptions options;
  options.max_epochs = job.trainer.max_epochs;
  options.limit_train_batches = job.trainer.limit_train_batches;
  options.limit_predict_batches = job.trainer.limit_predict_batches;
  options.device = device;
  options.gradient_clip_val = job.trainer.gradient_clip_val;
  options.accumulate_grad_batches = job.trainer.accumulate_grad_batches;
  options.optimizer = job.optimizer;
  options.lr_scheduler = job.lr_scheduler;
  const fs::path checkpoint_dir = job.trainer.default_root_dir / "checkpoints";
  if (request.stage == Stage::fit) {
    fs::create_directories(checkpoint_dir);
    options.checkpoint_path = checkpoint_dir / "last.pt";
    options.resume_from = std::move(resume);
  }
  Trainer trainer(options, events);
  if (request.stage == Stage::fit) {
    trainer.fit(*module, loader_data);
    const fs::path weights = checkpoint_dir / "weights.pt";
    save_weights(module->network(), weights);
    log::info(fmt::format("training checkpoint (resume with --ckpt_path) at {}; weights ({{name: tensor}}) at {}",
                          options.checkpoint_path->string(), weights.string()));
  } else {
    trainer.predict(*module, loader_data);
  }
}

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
    for (std::size_t i = 0; i < info.num_params; ++i) {
      const ParamSpec& p = info.params[i];
      std::string type = to_string(p.type);
      if (p.type == ParamType::Enum && p.choices) type = std::string(p.choices);
      std::cout << fmt::format("    {:<24} {:<24} {:<12} {}\n", p.name, type,
                               p.default_value ? fmt::format("= {}", p.default_value) : "(required)", p.doc);
    }
    std::cout << "\n";
  }
  for (const auto& problem : problems) std::cout << "skipped: " << problem << "\n";
}

}  // namespace minitrain::cli
