#pragma once
// A model that is a forward function from Python — TorchScript or an exported
// (AOTInductor) package — as a minitrain Module. forward gets the `inputs`
// batch fields, in order. The loss is named in the job:
//   cross_entropy  forward's logits [B, C] or [B, L, C] against class labels [B] or [B, L]
//   mse            forward's output against targets of the same number of elements
//   module         forward(inputs..., target) returns the loss itself (a scalar, or a dict with "loss")
// When forward returns a dict, the loss reads its `output_key` entry; a tuple or list, its first item.
// Predict writes what forward returns, as a dict: a dict as it is, a tensor as
// {"prediction": tensor}, a tuple or list as {"output_0": ..., "output_1": ...}.
// Validation reports loss, and accuracy for cross_entropy.
#include <array>
#include <iterator>
#include <string>
#include <vector>

#include "minitrain/base/params.hpp"
#include "minitrain/models/module.hpp"

namespace minitrain {

// The keys every forward model's section shares, beside the one naming its file.
inline constexpr ParamSpec kForwardParams[] = {
    {"inputs", ParamType::StringList, "null",
     "batch fields passed to forward, in order (null: input_ids for sequences, features for tables)", nullptr},
    {"target", ParamType::String, "targets", "batch field the loss compares forward's output with", nullptr},
    {"loss", ParamType::Enum, "null", "the loss of fit and validate (null: predict only)", "cross_entropy|mse|module"},
    {"output_key", ParamType::String, "logits", "the entry the loss reads when forward returns a dict", nullptr},
};

// A forward model's table: the key naming its file, then kForwardParams.
constexpr std::array<ParamSpec, std::size(kForwardParams) + 1> forward_params(const ParamSpec& file) {
  std::array<ParamSpec, std::size(kForwardParams) + 1> all{};
  all[0] = file;
  for (std::size_t i = 0; i < std::size(kForwardParams); ++i) all[i + 1] = kForwardParams[i];
  return all;
}

class ForwardModule : public Module {
 public:
  // `kind` names the model in messages ("TorchScript", "exported").
  ForwardModule(const PluginArgs& args, std::string kind);

  at::Tensor training_step(const Batch& batch, std::int64_t batch_idx) override;
  StepMetrics validation_step(const Batch& batch, std::int64_t batch_idx) override;
  c10::IValue predict_step(const Batch& batch, std::int64_t batch_idx) override;

 protected:
  // The model's own forward on these tensors: a tensor, or a dict, tuple or list of them.
  virtual c10::IValue run_forward(std::vector<at::Tensor> arguments) = 0;
  const std::vector<std::string>& inputs() const { return inputs_; }
  const std::string& kind() const { return kind_; }
  // loss: module, whose forward takes the target after the inputs.
  bool passes_target() const { return loss_ == Loss::module; }

 private:
  enum class Loss { none, cross_entropy, mse, module };
  struct LossParts {
    at::Tensor loss;
    at::Tensor logits = {};
    at::Tensor labels = {};
  };

  c10::IValue forward(const Batch& batch, bool with_target);
  at::Tensor output_for_loss(const c10::IValue& out) const;
  // The scalar loss; with cross_entropy also the logits [N, C] and labels [N] it compared.
  LossParts loss_of(const Batch& batch);

  std::vector<std::string> inputs_;
  std::string target_;
  Loss loss_;
  std::string output_key_;
  std::string kind_;
};

}  // namespace minitrain
