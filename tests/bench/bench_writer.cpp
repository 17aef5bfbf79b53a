// Benchmarks of the PredictionWriter, each measured side by side in one run:
//   throughput  save_pickled vs plain fwrite of the same bytes, vs PyTorchStreamWriter, vs Python torch.save
//   overhead    a predict job's wall time with the writer vs without, compute per batch > write time
//   epoch-rss   peak resident memory of epoch mode as the number of batches grows
//   all         everything above
// Usage: bench_writer all|throughput|overhead|epoch-rss [--dir DIR]   (DIR on the disk to measure; default build/bench_tmp)
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include "index_dataset.hpp"
#include "plugin_factory.hpp"
#include "bench_timing.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/core/trainer.hpp"

namespace fs = std::filesystem;
using namespace minitrain;
using namespace minitrain::bench;

namespace {

c10::impl::GenericDict prediction_of_mib(std::int64_t mib) {
  const std::int64_t floats = (mib << 20) / 4;
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("token_logits", at::rand({floats * 3 / 4}));
  d.insert("embeddings", at::rand({floats - floats * 3 / 4}));
  d.insert("batch_indices", at::arange(64, at::kLong));
  return d;
}

void fwrite_tensors(const c10::impl::GenericDict& d, const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  for (const auto& e : d) {
    const at::Tensor& t = e.value().toTensor();
    std::fwrite(t.data_ptr(), 1, t.nbytes(), f);
  }
  std::fclose(f);
}

void stream_writer_save(const c10::impl::GenericDict& d, const fs::path& path) {
  std::vector<char> program;
  torch::jit::Pickler pickler([&](const char* b, std::size_t n) { program.insert(program.end(), b, b + n); }, nullptr,
                              nullptr, nullptr, nullptr, false);
  pickler.protocol();
  pickler.pushIValue(d);
  pickler.stop();
  caffe2::serialize::PyTorchStreamWriter writer(path.string());
  torch::jit::writeArchiveAndTensors("data", program.data(), program.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
}

template <class Fn>
double time_write(Fn&& write, const fs::path& path) {
  const auto start = Clock::now();
  write(path);
  const double s = seconds_since(start);
  fs::remove(path);
  return s;
}

void throughput(const fs::path& dir) {
  fmt::print("\n## Writer throughput (page cache of {}; median of repeats)\n\n", dir.string());
  fmt::print("| prediction | fwrite | minitrain save_pickled | ratio | PyTorchStreamWriter | ratio | Python torch.save | ratio |\n");
  fmt::print("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const std::int64_t mib : {1, 16, 256}) {
    const int repeats = mib == 1 ? 200 : mib == 16 ? 30 : 7;
    const auto d = prediction_of_mib(mib);
    std::vector<double> plain, ours, stream;
    for (int r = 0; r < repeats; ++r) {  // interleaved, so drift hits all alike
      plain.push_back(time_write([&](const fs::path& p) { fwrite_tensors(d, p); }, dir / "plain.bin"));
      ours.push_back(time_write([&](const fs::path& p) { save_pickled(d, p); }, dir / "ours.pt"));
      stream.push_back(time_write([&](const fs::path& p) { stream_writer_save(d, p); }, dir / "stream.pt"));
    }
    double python = 0;
    const std::string command = fmt::format("/usr/bin/python3 {}/tests/bench/torch_save_speed.py {} {} {}", MINITRAIN_SOURCE_DIR, mib,
                                            repeats, dir.string());
    if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
      if (std::fscanf(pipe, "median_seconds %lf", &python) != 1) python = 0;
      ::pclose(pipe);
    }
    const double bytes = static_cast<double>(mib << 20);
    auto rate = [&](double s) { return fmt::format("{:.2f} GB/s", bytes / s / 1e9); };
    fmt::print("| {} MiB | {} | {} | {:.2f}x | {} | {:.2f}x | {} | {:.2f}x |\n", mib, rate(median(plain)), rate(median(ours)),
               median(plain) / median(ours), rate(median(stream)), median(plain) / median(stream),
               python > 0 ? rate(python) : "n/a", python > 0 ? median(plain) / python : 0.0);
    std::fflush(stdout);
  }
}

// A module whose predict_step does `work` matmuls per batch before returning `mib` of outputs.
class SyntheticModule : public Module {
 public:
  SyntheticModule(int work, std::int64_t mib) : work_(work), mib_(mib), weight_(at::rand({512, 512}) / 512) {}
  torch::nn::Module& network() override { return network_; }
  at::Tensor training_step(const Batch&, std::int64_t) override { return at::zeros({}); }
  c10::IValue predict_step(const Batch& batch, std::int64_t) override {
    at::Tensor x = at::rand({512, 512});
    for (int i = 0; i < work_; ++i) x = at::tanh(at::mm(x, weight_));
    const std::int64_t floats = (mib_ << 20) / 4;
    c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
    out.insert("token_logits", at::rand({batch.size(), floats / batch.size() - 512}));
    out.insert("embeddings", x.slice(0, 0, batch.size()).clone());
    return out;
  }
  std::unique_ptr<torch::optim::Optimizer> configure_optimizers() override { return nullptr; }

 private:
  int work_;
  std::int64_t mib_;
  at::Tensor weight_;
  torch::nn::Module network_;
};

double run_predict(std::int64_t batches, int work, std::int64_t mib, const std::string& writer_args) {
  auto loader = DataLoader(std::make_shared<testing::IndexDataset>(batches * 64), {64, false, false, 0});
  SyntheticModule module(work, mib);
  Events events;
  std::shared_ptr<Callback> writer;
  if (!writer_args.empty()) {
    writer = testing::make_plugin_callback(PluginLoader::executable_plugin_dirs().front(), "prediction_writer", writer_args);
    writer->connect(events);
  }
  Trainer trainer({}, events);
  const auto start = Clock::now();
  trainer.predict(module, loader);
  return seconds_since(start);
}

void overhead(const fs::path& dir) {
  const std::int64_t batches = 30, mib = 16;
  const int work = 40;
  // How long one batch's write takes alone.
  const auto one = prediction_of_mib(mib);
  std::vector<double> writes;
  for (int r = 0; r < 5; ++r) writes.push_back(time_write([&](const fs::path& p) { save_pickled(one, p); }, dir / "one.pt"));
  const double write = median(writes);
  // A warm-up pair first: the first run of each pays for page faults and file creation.
  run_predict(batches, work, mib, "");
  run_predict(batches, work, mib, fmt::format("{{output_dir: {}, overwrite: true}}", (dir / "overhead").string()));
  std::vector<double> without, with, added;
  for (int r = 0; r < 7; ++r) {  // alternating which goes first, so drift hits both alike
    auto plain = [&] { without.push_back(run_predict(batches, work, mib, "")); };
    auto writing = [&] {
      fs::remove_all(dir / "overhead");
      with.push_back(run_predict(batches, work, mib, fmt::format("{{output_dir: {}}}", (dir / "overhead").string())));
    };
    if (r % 2 == 0) {
      plain();
      writing();
    } else {
      writing();
      plain();
    }
    added.push_back(with.back() / without.back() - 1);
  }
  fs::remove_all(dir / "overhead");
  fmt::print("\n## Predict wall time with and without the writer (7 pairs of runs after a warm-up pair)\n\n");
  fmt::print("{} batches of {} MiB predictions; compute {:.1f} ms per batch, one write alone {:.1f} ms\n\n", batches, mib,
             median(without) / static_cast<double>(batches) * 1e3, write * 1e3);
  std::sort(added.begin(), added.end());
  fmt::print("| without writer | with writer (batch files) | added (median of pairs) | added (range) |\n| --- | --- | --- | --- |\n");
  fmt::print("| {:.3f} s | {:.3f} s | {:+.1f}% | {:+.1f}% to {:+.1f}% |\n", median(without), median(with), median(added) * 100,
             added.front() * 100, added.back() * 100);
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

void epoch_rss_child(std::int64_t batches, const fs::path& dir) {
  fs::remove_all(dir);
  run_predict(batches, 0, 2, fmt::format("{{output_dir: {}, write_interval: epoch, max_pending_mb: 8}}", dir.string()));
  const auto size = fs::exists(dir / "predictions__rank_0.pt") ? fs::file_size(dir / "predictions__rank_0.pt") : 0;
  fs::remove_all(dir);
  fmt::print("{} {}\n", peak_rss_kib(), size);
}

void epoch_rss(const fs::path& dir, const char* self) {
  fmt::print("\n## Peak resident memory of epoch mode (2 MiB predictions per batch, max_pending_mb: 8)\n\n");
  fmt::print("| batches | epoch file | peak RSS |\n| --- | --- | --- |\n");
  for (const std::int64_t batches : {1, 10, 100, 1000}) {
    const std::string command = fmt::format("{} epoch-rss-child {} {}", self, batches, (dir / "epoch").string());
    long rss = 0;
    unsigned long long size = 0;
    if (std::FILE* pipe = ::popen(command.c_str(), "r")) {
      if (std::fscanf(pipe, "%ld %llu", &rss, &size) != 2) rss = 0;
      ::pclose(pipe);
    }
    fmt::print("| {} | {:.0f} MiB | {:.0f} MiB |\n", batches, static_cast<double>(size) / (1 << 20), static_cast<double>(rss) / 1024);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "all";
  if (what == "epoch-rss-child" && argc == 4) {
    epoch_rss_child(std::stoll(argv[2]), argv[3]);
    return 0;
  }
  fs::path dir = fs::path(MINITRAIN_BINARY_DIR) / "bench_tmp";
  if (argc > 3 && std::string(argv[2]) == "--dir") dir = argv[3];
  fs::create_directories(dir);
  at::manual_seed(0);
  fmt::print("bench_writer: {} threads\n", at::get_num_threads());
  if (what == "all" || what == "throughput") throughput(dir);
  if (what == "all" || what == "overhead") overhead(dir);
  if (what == "all" || what == "epoch-rss") epoch_rss(dir, argv[0]);
  return 0;
}
