#pragma once
// A seeded linear regression on synthetic data: no dropout and no random
// masking, so runs on any number of ranks and hosts compare number for number.
#include <fmt/format.h>

#include <string>

#include "e2e/cli_runner.hpp"

namespace minitrain::e2e {

// Writes linear_untrained.pt (the initial weights), linear.pt (the scripted
// model) and linear.yaml (the job) into `dir`; returns the job.
inline fs::path linear_job(const minitrain::testing::TempDir& dir) {
  const Result model = run(fmt::format(
      "{} -c \"import torch; torch.manual_seed(0); m = torch.nn.Linear(16, 1); "
      "torch.save(dict(m.state_dict()), '{}'); torch.jit.save(torch.jit.script(m), '{}')\"",
      MINITRAIN_PYTHON, (dir / "linear_untrained.pt").string(), (dir / "linear.pt").string()));
  REQUIRE(model.exit_code == 0);
  return minitrain::testing::write_file(dir / "linear.yaml", fmt::format(R"(seed_everything: 0
trainer: {{max_epochs: 3}}
model: {{torchscript: {}, loss: mse}}
optimizer: {{class_path: sgd, init_args: {{lr: 0.05, momentum: 0.9}}}}
data:
  batch_size: 8
  train: {{synthetic: 64, num_features: 16, num_classes: 0}}
  val: {{synthetic: 30, num_features: 16, num_classes: 0, seed: 1}}
)",
                                                                         (dir / "linear.pt").string()));
}

// Checks in Python that the runs under `dir`/`first` and `dir`/`second` wrote the same final
// weights (torch.allclose with atol `tolerance`; 0: bit for bit), and that training moved them.
inline void check_same_trained_weights(const minitrain::testing::TempDir& dir, const std::string& first,
                                       const std::string& second, double tolerance) {
  const Result compare = run(fmt::format(
      "{} -c \"import torch; a = torch.load('{}'); b = torch.load('{}'); c = torch.load('{}'); "
      "assert all({} for k in a), [(a[k] - b[k]).abs().max() for k in a]; "
      "assert not torch.allclose(a['weight'], c['weight']); print('equal weights')\"",
      MINITRAIN_PYTHON, (dir / first / "checkpoints" / "weights.pt").string(),
      (dir / second / "checkpoints" / "weights.pt").string(), (dir / "linear_untrained.pt").string(),
      tolerance == 0 ? std::string("torch.equal(a[k], b[k])") : fmt::format("torch.allclose(a[k], b[k], atol={})", tolerance)));
  INFO(compare.output);
  CHECK(compare.output.find("equal weights") != std::string::npos);
}

}  // namespace minitrain::e2e
