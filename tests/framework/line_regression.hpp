#pragma once
// A linear regression small enough to train in microseconds: the Trainer's
// test subject.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include "minitrain/base/error.hpp"
#include "minitrain/models/module.hpp"

namespace minitrain::testing {

// y = 3x + 1 on N points; index i holds x = i / N.
class LineDataset : public Dataset {
 public:
  explicit LineDataset(std::int64_t n) : n_(n) {}
  std::int64_t size() const override { return n_; }
  Batch get_batch(std::span<const std::int64_t> indices) const override {
    Batch batch;
    batch.indices.assign(indices.begin(), indices.end());
    at::Tensor x = at::tensor(std::vector<std::int64_t>(indices.begin(), indices.end()), at::kLong).to(at::kFloat).div(n_).unsqueeze(1);
    batch.fields["x"] = x;
    batch.fields["y"] = x * 3 + 1;
    return batch;
  }

 private:
  std::int64_t n_;
};

class LineModule : public Module {
 public:
  LineModule() : linear_(torch::nn::Linear(1, 1)) { holder_->register_module("linear", linear_); }
  torch::nn::Module& network() override { return *holder_; }
  at::Tensor training_step(const Batch& batch, std::int64_t batch_idx) override {
    if (fail_train_at == batch_idx) throw Error("training_step failed on purpose");
    return (linear_(batch.field("x")) - batch.field("y")).pow(2).mean();
  }
  c10::IValue predict_step(const Batch& batch, std::int64_t batch_idx) override {
    if (fail_predict_at == batch_idx) throw Error("predict_step failed on purpose");
    return linear_(batch.field("x"));
  }
  std::unique_ptr<torch::optim::Optimizer> configure_optimizers() override {
    return std::make_unique<torch::optim::SGD>(holder_->parameters(), torch::optim::SGDOptions(0.5));
  }
  torch::nn::Linear& linear() { return linear_; }
  std::int64_t fail_train_at = -1;
  std::int64_t fail_predict_at = -1;

 private:
  std::shared_ptr<torch::nn::Module> holder_ = std::make_shared<torch::nn::Module>();
  torch::nn::Linear linear_;
};

}  // namespace minitrain::testing
