// Reads a checked trainer section into TrainerSettings.
#include "minitrain/core/trainer_settings.hpp"

namespace minitrain {

TrainerSettings trainer_settings(const PluginArgs& args) {
  TrainerSettings o;
  auto set = [&](const char* name, auto& field, auto (PluginArgs::*get)(const std::string&) const) {
    if (args.has(name)) field = (args.*get)(name);
  };
  set("max_epochs", o.max_epochs, &PluginArgs::integer);
  set("limit_train_batches", o.limit_train_batches, &PluginArgs::integer);
  set("limit_val_batches", o.limit_val_batches, &PluginArgs::integer);
  set("limit_predict_batches", o.limit_predict_batches, &PluginArgs::integer);
  set("check_val_every_n_epoch", o.check_val_every_n_epoch, &PluginArgs::integer);
  set("accelerator", o.accelerator, &PluginArgs::string);
  set("devices", o.devices, &PluginArgs::integer);
  set("num_nodes", o.num_nodes, &PluginArgs::integer);
  set("distributed_timeout_s", o.distributed_timeout_s, &PluginArgs::integer);
  set("default_root_dir", o.default_root_dir, &PluginArgs::string);
  set("gradient_clip_val", o.gradient_clip_val, &PluginArgs::number);
  set("accumulate_grad_batches", o.accumulate_grad_batches, &PluginArgs::integer);
  if (args.has("on_nonfinite_loss") && args.string("on_nonfinite_loss") == "skip_batch")
    o.on_nonfinite_loss = NonFiniteLoss::skip_batch;
  return o;
}

}  // namespace minitrain
