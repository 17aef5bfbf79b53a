// The Trainer's own cost: fit and predict through the Trainer vs a hand-written
// LibTorch loop making the same calls on the same model and data.
// Usage: bench_trainer [--epochs N]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "bench_timing.hpp"
#include "minitrain/data/fasta.hpp"
#include "minitrain/models/optimization.hpp"
#include "minitrain/models/protein_encoder.hpp"
#include "minitrain/core/trainer.hpp"

using namespace minitrain;
using namespace minitrain::bench;

namespace {

PluginArgs encoder_args() {
  PluginArgs args;
  for (const ParamSpec& spec : kProteinEncoderParams) {
    const std::string value = spec.default_value;
    if (spec.type == ParamType::Int) args.set(spec.name, std::int64_t{std::stoll(value)});
    else args.set(spec.name, std::stod(value));
  }
  return args;
}

std::shared_ptr<SequenceDataset> globins() {
  return std::make_shared<SequenceDataset>(fasta_in_memory(std::string(MINITRAIN_SOURCE_DIR) + "/configs/data/globins45.fa"), 160, Padding::longest);
}

double trainer_fit(std::int64_t epochs) {
  at::manual_seed(0);
  auto module = make_protein_encoder(encoder_args(), 30);
  DataLoader loader(globins(), {8, true, false, 0});
  Events events;
  Trainer trainer({{.max_epochs = epochs}}, events);
  const auto start = Clock::now();
  trainer.fit(*module, loader);
  return seconds_since(start);
}

double hand_fit(std::int64_t epochs) {
  at::manual_seed(0);
  auto module = make_protein_encoder(encoder_args(), 30);
  DataLoader loader(globins(), {8, true, false, 0});
  const auto start = Clock::now();
  auto optimizer = module->configure_optimizers();
  module->network().train();
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    loader.set_epoch(epoch);
    for (std::int64_t b = 0; b < loader.num_batches(); ++b) {
      const Batch batch = loader.batch(b);
      optimizer->zero_grad();
      module->training_step(batch, b).backward();
      optimizer->step();
    }
  }
  return seconds_since(start);
}

double trainer_predict(std::int64_t repeats) {
  at::manual_seed(0);
  auto module = make_protein_encoder(encoder_args(), 30);
  DataLoader loader(globins(), {8, false, false, 0});
  Events events;
  Trainer trainer({}, events);
  const auto start = Clock::now();
  for (std::int64_t r = 0; r < repeats; ++r) trainer.predict(*module, loader);
  return seconds_since(start);
}

double hand_predict(std::int64_t repeats) {
  at::manual_seed(0);
  auto module = make_protein_encoder(encoder_args(), 30);
  DataLoader loader(globins(), {8, false, false, 0});
  const auto start = Clock::now();
  for (std::int64_t r = 0; r < repeats; ++r) {
    module->network().eval();
    torch::NoGradGuard no_grad;
    for (std::int64_t b = 0; b < loader.num_batches(); ++b) module->predict_step(loader.batch(b), b);
  }
  return seconds_since(start);
}

template <class A, class B>
void compare(const char* what, A&& ours, B&& hand) {
  ours();
  hand();  // warm-up
  std::vector<double> a, h, gap;
  for (int r = 0; r < 11; ++r) {
    if (r % 2 == 0) {
      a.push_back(ours());
      h.push_back(hand());
    } else {
      h.push_back(hand());
      a.push_back(ours());
    }
    gap.push_back(a.back() / h.back() - 1);
  }
  std::sort(gap.begin(), gap.end());
  fmt::print("| {} | {:.3f} s | {:.3f} s | {:+.1f}% | {:+.1f}% to {:+.1f}% |\n", what, median(a), median(h), median(gap) * 100,
             gap.front() * 100, gap.back() * 100);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t epochs = 4;
  if (argc == 3 && std::strcmp(argv[1], "--epochs") == 0) epochs = std::stoll(argv[2]);
  fmt::print("bench_trainer: protein_encoder (defaults) on configs/data/globins45.fa, batch 8, {} threads\n\n", at::get_num_threads());
  fmt::print("| loop | Trainer | hand-written | gap (median of 11 pairs) | gap (range) |\n| --- | --- | --- | --- | --- |\n");
  compare(fmt::format("fit, {} epochs", epochs).c_str(), [&] { return trainer_fit(epochs); }, [&] { return hand_fit(epochs); });
  compare(fmt::format("predict, {} passes", 3 * epochs).c_str(), [&] { return trainer_predict(3 * epochs); },
          [&] { return hand_predict(3 * epochs); });
  return 0;
}
