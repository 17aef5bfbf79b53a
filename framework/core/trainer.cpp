#include "minitrain/core/trainer.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/module.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/optimizer.h>

#include <algorithm>
#include <cmath>

#include "minitrain/base/error.hpp"
#include "minitrain/base/interrupt.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/data/batch_prefetch.hpp"
#include "minitrain/io/training_checkpoint.hpp"

namespace minitrain {

namespace {
std::int64_t limited(std::int64_t available, const std::optional<std::int64_t>& limit) {
  return limit ? std::min(available, *limit) : available;
}

// The same metric parts summed over every rank (each rank saw its own share of the samples).
MetricAccumulator summed_over_ranks(const MetricAccumulator& local, Communicator* communicator) {
  if (!communicator || communicator->world_size() == 1) return local;
  std::vector<double> values;
  for (const auto& [name, part] : local.parts()) {
    values.push_back(part.total);
    values.push_back(part.count);
  }
  const std::vector<double> sums = communicator->sum(values);
  StepMetrics summed = local.parts();
  std::size_t i = 0;
  for (auto& [name, part] : summed) {
    part.total = sums[i++];
    part.count = sums[i++];
  }
  MetricAccumulator out;
  out.add(summed);
  return out;
}

std::vector<at::Tensor> parameters_and_buffers(torch::nn::Module& network) {
  std::vector<at::Tensor> tensors = network.parameters();
  for (const at::Tensor& buffer : network.buffers()) tensors.push_back(buffer);
  return tensors;
}

std::string describe_exception(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}
}  // namespace

Trainer::Trainer(TrainerOptions options, Events& events) : options_(std::move(options)), events_(events) {}

void Trainer::fail(Stage stage) {
  const std::exception_ptr error = std::current_exception();
  try {
    events_.exception(ExceptionEvent{stage, error, describe_exception(error)});
  } catch (...) {
    // A callback failing while handling the failure must not hide the original error.
  }
  std::rethrow_exception(error);
}

void Trainer::fit(Module& module, DataLoader& train_loader, DataLoader* val_loader) {
  try {
    run_fit(module, train_loader, val_loader);
  } catch (...) {
    fail(Stage::fit);
  }
}

MetricValues Trainer::validate(Module& module, DataLoader& val_loader) {
  try {
    module.network().to(options_.device);
    share_rank0_weights(module.network());
    events_.setup(Setup{Stage::validate, options_.global_rank, options_.world_size, options_.default_root_dir.string()});
    MetricValues metrics = run_validation(module, val_loader, 0);
    events_.teardown(Teardown{Stage::validate});
    return metrics;
  } catch (...) {
    fail(Stage::validate);
  }
}

void Trainer::predict(Module& module, DataLoader& predict_loader) {
  try {
    run_predict(module, predict_loader);
  } catch (...) {
    fail(Stage::predict);
  }
}

void Trainer::share_rank0_weights(torch::nn::Module& network) {
  if (!options_.communicator || options_.communicator->world_size() == 1) return;
  torch::NoGradGuard no_grad;
  options_.communicator->broadcast_from_rank0(parameters_and_buffers(network), "sharing rank 0's weights");
}

// What one fit carries from step to step.
struct Trainer::FitState {
  torch::nn::Module& network;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  LrSchedule schedule;
  std::vector<double> base_lrs;
  std::int64_t accumulate;
  std::int64_t batches_per_epoch;
  Communicator* communicator;  // null with one rank
  TrainingProgress progress;   // where the fit is, for a checkpoint asked for at any event
};

void Trainer::run_fit(Module& module, DataLoader& loader, DataLoader* val_loader) {
  FitState fit = begin_fit(module, loader);
  share_rank0_weights(fit.network);
  const c10::impl::GenericDict no_callback_states(c10::StringType::get(), c10::AnyType::get());
  events_.control.start_run([&](const std::filesystem::path& path) {
    fit.progress.global_step = global_step_;
    save_training_checkpoint(path, fit.network, *fit.optimizer, fit.progress,
                             options_.callbacks ? options_.callbacks->state_dict() : no_callback_states);
  });
  struct EndRun {
    RunControl& control;
    ~EndRun() { control.end_run(); }
  } end_run{events_.control};

  const std::int64_t validate_every = std::max<std::int64_t>(options_.check_val_every_n_epoch, 1);
  std::int64_t epoch = fit.progress.epochs_done;
  events_.fit_start(FitStart{options_.max_epochs});
  for (; epoch < options_.max_epochs && !events_.control.stop_requested(); ++epoch) {
    MetricValues metrics = train_one_epoch(fit, module, loader, epoch);
    const double mean_loss = metrics.at("train_loss");
    if (val_loader && (epoch + 1) % validate_every == 0 && !events_.control.stop_requested()) {
      metrics.merge(run_validation(module, *val_loader, epoch));
      fit.network.train();
    }
    events_.train_epoch_end(TrainEpochEnd{epoch, mean_loss, metrics, global_step_});
    // After the epoch's last event, so every callback's state includes this epoch.
    if (options_.checkpoint_path) events_.control.save_checkpoint(*options_.checkpoint_path);
  }
  if (events_.control.stop_requested())
    log::info(fmt::format("fit stopped after epoch {}: {}", epoch - 1, events_.control.stop_reason()));
  events_.fit_end(FitEnd{epoch, global_step_});
  events_.teardown(Teardown{Stage::fit});
}

Trainer::FitState Trainer::begin_fit(Module& module, DataLoader& loader) {
  torch::nn::Module& network = module.network();
  network.to(options_.device);
  events_.setup(Setup{Stage::fit, options_.global_rank, options_.world_size, options_.default_root_dir.string()});
  std::unique_ptr<torch::optim::Optimizer> optimizer =
      options_.optimizer ? make_optimizer(*options_.optimizer, network.parameters()) : module.configure_optimizers();
  if (!optimizer) throw Error("configure_optimizers returned no optimizer");
  const std::int64_t accumulate = std::max<std::int64_t>(options_.accumulate_grad_batches, 1);
  const std::int64_t batches_per_epoch = limited(loader.num_batches(), options_.limit_train_batches);
  const std::int64_t steps_per_epoch = (batches_per_epoch + accumulate - 1) / accumulate;
  LrSchedule schedule =
      options_.lr_scheduler ? make_lr_schedule(*options_.lr_scheduler, steps_per_epoch * options_.max_epochs) : nullptr;
  std::vector<double> base_lrs;
  for (auto& group : optimizer->param_groups()) base_lrs.push_back(group.options().get_lr());
  Communicator* const communicator =
      options_.communicator && options_.communicator->world_size() > 1 ? options_.communicator : nullptr;
  FitState fit{network, std::move(optimizer), std::move(schedule), std::move(base_lrs), accumulate, batches_per_epoch,
               communicator, {}};
  if (options_.resume_from) resume(fit);
  return fit;
}

void Trainer::resume(FitState& fit) {
  const TrainingProgress resumed = restore_training_checkpoint(*options_.resume_from, fit.network, *fit.optimizer);
  global_step_ = resumed.global_step;
  fit.progress = resumed;  // a mid-epoch checkpoint goes on with the next batch of its epoch
  const c10::IValue callback_states = saved_callback_states(*options_.resume_from);
  if (!options_.callbacks || callback_states.isNone()) return;
  for (const std::string& key : options_.callbacks->load_state_dict(callback_states, options_.resume_from->file))
    log::warn(fmt::format("{}: state saved by callback '{}', which this job does not have; ignored",
                          options_.resume_from->file.string(), key));
}

void Trainer::optimizer_step(FitState& fit) {
  if (fit.communicator) {
    // As DDP: after backward, every rank's gradients become their mean over ranks.
    std::vector<at::Tensor> gradients;
    for (at::Tensor& parameter : fit.network.parameters()) {
      if (!parameter.requires_grad()) continue;
      if (!parameter.grad().defined()) parameter.mutable_grad() = at::zeros_like(parameter);
      gradients.push_back(parameter.grad());
    }
    fit.communicator->average(gradients);
  }
  if (options_.gradient_clip_val) torch::nn::utils::clip_grad_norm_(fit.network.parameters(), *options_.gradient_clip_val);
  if (fit.schedule) {
    const double factor = fit.schedule(global_step_);
    for (std::size_t g = 0; g < fit.base_lrs.size(); ++g)
      fit.optimizer->param_groups()[g].options().set_lr(fit.base_lrs[g] * factor);
  }
  fit.optimizer->step();
  fit.optimizer->zero_grad();
  ++global_step_;
}

MetricValues Trainer::train_one_epoch(FitState& fit, Module& module, DataLoader& loader, std::int64_t epoch) {
  loader.set_epoch(epoch);
  fit.network.train();
  events_.train_epoch_start(TrainEpochStart{epoch, fit.batches_per_epoch});
  fit.optimizer->zero_grad();
  TrainingProgress& progress = fit.progress;
  BatchPrefetcher batches(loader, progress.batches_done, fit.batches_per_epoch, loader.options().prefetch_batches);
  for (std::int64_t batch_idx = progress.batches_done; batch_idx < fit.batches_per_epoch; ++batch_idx) {
    throw_if_interrupted();
    const auto indices = loader.batch_indices(batch_idx);
    const Batch batch = batches.next().to(options_.device);
    events_.train_batch_start(TrainBatchStart{epoch, batch_idx, 0, indices, batch});
    const at::Tensor loss = module.training_step(batch, batch_idx);
    if (!loss.defined() || loss.numel() != 1)
      throw Error(fmt::format("training_step must return a scalar loss (epoch {}, batch {})", epoch, batch_idx));
    const double value = loss.item<double>();
    const bool finite = std::isfinite(value);
    if (!finite && options_.on_nonfinite_loss == NonFiniteLoss::error)
      throw Error(fmt::format("the loss is {} at epoch {}, batch {}; lower the learning rate or check the data "
                              "(trainer.on_nonfinite_loss: skip_batch leaves such batches out instead)",
                              value, epoch, batch_idx));
    if (finite) {
      // As Lightning does: each batch of an accumulation window adds loss / N to the gradients.
      (fit.accumulate > 1 ? loss / static_cast<double>(fit.accumulate) : loss).backward();
      progress.epoch_loss_sum += value;
      ++progress.epoch_loss_batches;
    } else {
      log::warn(fmt::format("the loss is {} at epoch {}, batch {}: batch skipped (trainer.on_nonfinite_loss: skip_batch)",
                            value, epoch, batch_idx));
    }
    // Taken even after a skipped batch, so every rank joins the same gradient averaging.
    if ((batch_idx + 1) % fit.accumulate == 0 || batch_idx + 1 == fit.batches_per_epoch) optimizer_step(fit);
    progress.batches_done = batch_idx + 1;
    const at::Tensor detached = loss.detach();
    const double lr = fit.optimizer->param_groups().front().options().get_lr();
    events_.train_batch_end(TrainBatchEnd{epoch, batch_idx, 0, global_step_, indices, batch, detached, lr});
    if (events_.control.stop_requested()) {
      if (batch_idx + 1 < fit.batches_per_epoch && (batch_idx + 1) % fit.accumulate != 0) optimizer_step(fit);  // no half window left behind
      break;
    }
  }
  const std::int64_t skipped = progress.batches_done - progress.epoch_loss_batches;
  if (skipped > 0)
    log::warn(fmt::format("epoch {}: {} of {} batch(es) skipped for a non-finite loss", epoch, skipped, progress.batches_done));
  MetricAccumulator train_loss;
  train_loss.add({{"loss", {progress.epoch_loss_sum, static_cast<double>(progress.epoch_loss_batches)}}});
  progress = {epoch + 1, global_step_, 0, 0.0, 0};  // from here on, checkpoints resume with the next epoch
  return summed_over_ranks(train_loss, fit.communicator).values("train_");
}

MetricValues Trainer::run_validation(Module& module, DataLoader& loader, std::int64_t epoch) {
  module.network().eval();
  torch::NoGradGuard no_grad;
  events_.validation_start(ValidationStart{});
  loader.set_epoch(0);
  const std::int64_t num_batches = limited(loader.num_batches(), options_.limit_val_batches);
  events_.validation_epoch_start(ValidationEpochStart{epoch, num_batches});
  MetricAccumulator accumulator;
  BatchPrefetcher batches(loader, 0, num_batches, loader.options().prefetch_batches);
  for (std::int64_t batch_idx = 0; batch_idx < num_batches; ++batch_idx) {
    throw_if_interrupted();
    const auto indices = loader.batch_indices(batch_idx);
    const Batch batch = batches.next().to(options_.device);
    events_.validation_batch_start(ValidationBatchStart{epoch, batch_idx, 0, indices, batch});
    const StepMetrics step = module.validation_step(batch, batch_idx);
    accumulator.add(step);
    events_.validation_batch_end(ValidationBatchEnd{epoch, batch_idx, 0, indices, batch, step});
  }
  const MetricValues metrics = summed_over_ranks(accumulator, options_.communicator).values("val_");
  events_.validation_epoch_end(ValidationEpochEnd{epoch, num_batches, metrics});
  events_.validation_end(ValidationEnd{metrics});
  return metrics;
}

void Trainer::run_predict(Module& module, DataLoader& loader) {
  torch::nn::Module& network = module.network();
  network.to(options_.device);
  network.eval();
  torch::NoGradGuard no_grad;
  share_rank0_weights(network);
  events_.setup(Setup{Stage::predict, options_.global_rank, options_.world_size, options_.default_root_dir.string()});
  events_.predict_start(PredictStart{});
  loader.set_epoch(0);
  const std::int64_t num_batches = limited(loader.num_batches(), options_.limit_predict_batches);
  std::int64_t samples = 0;
  for (std::int64_t batch_idx = 0; batch_idx < num_batches; ++batch_idx)
    samples += static_cast<std::int64_t>(loader.batch_indices(batch_idx).size());
  events_.predict_epoch_start(PredictEpochStart{0, num_batches, samples});
  BatchPrefetcher batches(loader, 0, num_batches, loader.options().prefetch_batches);
  for (std::int64_t batch_idx = 0; batch_idx < num_batches; ++batch_idx) {
    throw_if_interrupted();
    const auto indices = loader.batch_indices(batch_idx);
    const Batch batch = batches.next().to(options_.device);
    events_.predict_batch_start(PredictBatchStart{batch_idx, 0, indices, batch});
    const c10::IValue prediction = module.predict_step(batch, batch_idx);
    events_.predict_batch_end(PredictBatchEnd{batch_idx, 0, indices, batch, prediction});
  }
  events_.predict_epoch_end(PredictEpochEnd{0, num_batches});
  events_.predict_end(PredictEnd{num_batches});
  events_.teardown(Teardown{Stage::predict});
}

}  // namespace minitrain
