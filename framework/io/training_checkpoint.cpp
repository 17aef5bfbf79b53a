#include "minitrain/io/training_checkpoint.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/nn/module.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <mutex>

#include "minitrain/base/torch_compat.hpp"
#include "minitrain/io/checkpoint.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

// LibTorch keys optimizer state by the parameter's TensorImpl address, which
// differs between runs; files key it by the parameter's position instead.
auto state_key(const at::Tensor& parameter) {
  using StateMap = std::remove_cvref_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
  return compat::optimizer_state_key<StateMap>(parameter);
}

std::vector<at::Tensor> parameters_of(torch::optim::Optimizer& optimizer) {
  std::vector<at::Tensor> parameters;
  for (auto& group : optimizer.param_groups())
    for (const auto& p : group.params()) parameters.push_back(p);
  return parameters;
}

c10::impl::GenericDict new_dict() { return c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get()); }

template <class State>
void put_adam_state(c10::impl::GenericDict& out, const State& state) {
  out.insert("step", at::scalar_tensor(state.step(), at::kLong));
  out.insert("exp_avg", compact_cpu(state.exp_avg()));
  out.insert("exp_avg_sq", compact_cpu(state.exp_avg_sq()));
  if (state.max_exp_avg_sq().defined()) out.insert("max_exp_avg_sq", compact_cpu(state.max_exp_avg_sq()));
}

template <class State>
std::unique_ptr<State> adam_state_from(const c10::impl::GenericDict& in, const at::Tensor& parameter) {
  auto state = std::make_unique<State>();
  state->step(in.at("step").toTensor().item<std::int64_t>());
  state->exp_avg(in.at("exp_avg").toTensor().to(parameter.device()).clone());
  state->exp_avg_sq(in.at("exp_avg_sq").toTensor().to(parameter.device()).clone());
  if (in.contains("max_exp_avg_sq")) state->max_exp_avg_sq(in.at("max_exp_avg_sq").toTensor().to(parameter.device()).clone());
  return state;
}

c10::impl::GenericDict optimizer_state_of(torch::optim::Optimizer& optimizer) {
  c10::impl::GenericDict states = new_dict();
  const auto parameters = parameters_of(optimizer);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const auto found = optimizer.state().find(state_key(parameters[i]));
    if (found == optimizer.state().end()) continue;
    c10::impl::GenericDict entry = new_dict();
    if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(found->second.get())) {
      if (sgd->momentum_buffer().defined()) entry.insert("momentum_buffer", compact_cpu(sgd->momentum_buffer()));
    } else if (const auto* adam = dynamic_cast<const torch::optim::AdamParamState*>(found->second.get())) {
      put_adam_state(entry, *adam);
    } else if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(found->second.get())) {
      put_adam_state(entry, *adamw);
    } else {
      throw Error("cannot checkpoint this optimizer: only sgd, adam and adamw state is known");
    }
    states.insert(std::to_string(i), entry);
  }
  std::vector<double> lrs;
  for (auto& group : optimizer.param_groups()) lrs.push_back(group.options().get_lr());
  c10::impl::GenericDict out = new_dict();
  out.insert("state", states);
  out.insert("lr", at::tensor(lrs, at::kDouble));
  return out;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const c10::impl::GenericDict& saved, const fs::path& path) {
  const auto parameters = parameters_of(optimizer);
  const at::Tensor lrs = saved.at("lr").toTensor();
  if (lrs.numel() != static_cast<std::int64_t>(optimizer.param_groups().size()))
    throw DataError(fmt::format("{}: error: the checkpoint's optimizer has {} parameter groups, this one {}", path.string(),
                                lrs.numel(), optimizer.param_groups().size()));
  for (std::size_t g = 0; g < optimizer.param_groups().size(); ++g)
    optimizer.param_groups()[g].options().set_lr(lrs[static_cast<std::int64_t>(g)].item<double>());
  for (const auto& entry : saved.at("state").toGenericDict()) {
    const std::size_t index = std::stoul(entry.key().toStringRef());
    if (index >= parameters.size())
      throw DataError(fmt::format("{}: error: optimizer state for parameter {}, but the optimizer has {}", path.string(), index,
                                  parameters.size()));
    const at::Tensor& parameter = parameters[index];
    const auto in = entry.value().toGenericDict();
    std::unique_ptr<torch::optim::OptimizerParamState> state;
    if (dynamic_cast<torch::optim::SGD*>(&optimizer)) {
      auto sgd = std::make_unique<torch::optim::SGDParamState>();
      if (in.contains("momentum_buffer")) sgd->momentum_buffer(in.at("momentum_buffer").toTensor().to(parameter.device()).clone());
      state = std::move(sgd);
    } else if (dynamic_cast<torch::optim::AdamW*>(&optimizer)) {
      state = adam_state_from<torch::optim::AdamWParamState>(in, parameter);
    } else if (dynamic_cast<torch::optim::Adam*>(&optimizer)) {
      state = adam_state_from<torch::optim::AdamParamState>(in, parameter);
    } else {
      throw Error("cannot restore this optimizer: only sgd, adam and adamw state is known");
    }
    optimizer.state()[state_key(parameter)] = std::move(state);
  }
}

}  // namespace

void save_training_checkpoint(const fs::path& path, torch::nn::Module& network, torch::optim::Optimizer& optimizer,
                              TrainingProgress progress, const c10::impl::GenericDict& callback_states) {
  c10::impl::GenericDict checkpoint = new_dict();
  checkpoint.insert("state_dict", state_dict_of(network));
  checkpoint.insert("optimizer", optimizer_state_of(optimizer));
  checkpoint.insert("epochs_done", at::scalar_tensor(progress.epochs_done, at::kLong));
  checkpoint.insert("global_step", at::scalar_tensor(progress.global_step, at::kLong));
  checkpoint.insert("batches_done", at::scalar_tensor(progress.batches_done, at::kLong));
  checkpoint.insert("epoch_loss_sum", at::scalar_tensor(progress.epoch_loss_sum, at::kDouble));
  checkpoint.insert("epoch_loss_batches", at::scalar_tensor(progress.epoch_loss_batches, at::kLong));
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard lock(generator.mutex());
    checkpoint.insert("rng_state", generator.get_state());
  }
  checkpoint.insert("callbacks", compact_cpu(c10::IValue(callback_states)));
  save_pickled(checkpoint, path);
}

bool is_training_checkpoint(const c10::IValue& loaded) {
  return loaded.isGenericDict() && loaded.toGenericDict().contains("optimizer") && loaded.toGenericDict().contains("epochs_done");
}

TrainingProgress restore_training_checkpoint(const LoadedCheckpoint& file, torch::nn::Module& network,
                                             torch::optim::Optimizer& optimizer) {
  const c10::IValue& loaded = file.value;
  const fs::path& path = file.file;
  if (!loaded.isGenericDict())
    throw DataError(fmt::format("{}: error: not a training checkpoint (expected a dict, got a {})", path.string(), loaded.tagKind()));
  const auto checkpoint = loaded.toGenericDict();
  for (const char* key : {"state_dict", "optimizer", "epochs_done", "global_step", "rng_state"}) {
    if (!checkpoint.contains(key))
      throw DataError(fmt::format("{}: error: not a training checkpoint: it has no '{}' (bare weights resume nothing; use them "
                                  "as ckpt_path of a predict job)",
                                  path.string(), key));
  }
  load_state_dict(network, checkpoint.at("state_dict"), path);
  load_optimizer_state(optimizer, checkpoint.at("optimizer").toGenericDict(), path);
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard lock(generator.mutex());
    generator.set_state(checkpoint.at("rng_state").toTensor());
  }
  TrainingProgress progress{checkpoint.at("epochs_done").toTensor().item<std::int64_t>(),
                            checkpoint.at("global_step").toTensor().item<std::int64_t>()};
  if (checkpoint.contains("batches_done")) progress.batches_done = checkpoint.at("batches_done").toTensor().item<std::int64_t>();
  if (checkpoint.contains("epoch_loss_sum")) progress.epoch_loss_sum = checkpoint.at("epoch_loss_sum").toTensor().item<double>();
  progress.epoch_loss_batches = checkpoint.contains("epoch_loss_batches")
                                    ? checkpoint.at("epoch_loss_batches").toTensor().item<std::int64_t>()
                                    : progress.batches_done;
  return progress;
}

c10::IValue saved_callback_states(const LoadedCheckpoint& checkpoint) {
  if (!checkpoint.value.isGenericDict() || !checkpoint.value.toGenericDict().contains("callbacks")) return {};
  return checkpoint.value.toGenericDict().at("callbacks");
}

}  // namespace minitrain
