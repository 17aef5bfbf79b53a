#include "minitrain/models/scripted_module.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace {

// A torch::nn::Module over a TorchScript module's parameters and buffers: the
// very same tensors, under the same dotted names, so the Trainer, optimizers,
// checkpoints and device moves work on it unchanged.
class ScriptedNetwork : public torch::nn::Module {
 public:
  explicit ScriptedNetwork(torch::jit::Module script) : script_(std::move(script)) { mirror(script_, *this); }

  void train(bool on = true) override {
    torch::nn::Module::train(on);
    // Dropout and batch norm inside the script follow. (jit::Module::train
    // asserts on modules without a `training` attribute, which only Python adds.)
    for (torch::jit::Module module : script_.modules()) {
      if (const auto slot = module._ivalue()->type()->findAttributeSlot("training")) module._ivalue()->setSlot(*slot, on);
    }
  }
  torch::jit::Module& script() { return script_; }

 private:
  static void mirror(const torch::jit::Module& source, torch::nn::Module& target) {
    for (const auto& parameter : source.named_parameters(/*recurse=*/false))
      target.register_parameter(parameter.name, parameter.value, parameter.value.requires_grad());
    for (const auto& buffer : source.named_buffers(/*recurse=*/false)) target.register_buffer(buffer.name, buffer.value);
    for (const auto& child : source.named_children()) {
      auto holder = std::make_shared<torch::nn::Module>();
      mirror(child.value, *holder);
      target.register_module(child.name, holder);
    }
  }

  torch::jit::Module script_;
};

enum class Loss { none, cross_entropy, mse, module };

Loss loss_named(const PluginArgs& args) {
  if (!args.has("loss")) return Loss::none;
  const std::string name = args.string("loss");
  return name == "cross_entropy" ? Loss::cross_entropy : name == "mse" ? Loss::mse : Loss::module;
}

std::string shape_of(const at::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

// Logits [N, C] and labels [N] from [B, C] / [B, L, C] logits and [B] / [B, 1] / [B, L] targets.
std::pair<at::Tensor, at::Tensor> classification_pair(const at::Tensor& logits, const at::Tensor& target) {
  if (logits.dim() < 2) throw Error(fmt::format("cross_entropy needs logits [B, C] or [B, L, C]; forward returned {}", shape_of(logits)));
  const std::int64_t classes = logits.size(-1);
  const at::Tensor flat_logits = logits.reshape({-1, classes});
  if (target.numel() != flat_logits.size(0))
    throw Error(fmt::format("cross_entropy: logits {} hold {} predictions but the target {} holds {} labels", shape_of(logits),
                            flat_logits.size(0), shape_of(target), target.numel()));
  if (at::isFloatingType(target.scalar_type()) && !target.eq(target.floor()).all().item<bool>())
    throw Error("cross_entropy needs class labels 0..C-1; the target holds fractions (use mse, or class_targets: true for tables)");
  return {flat_logits, target.reshape({-1}).to(at::kLong)};
}

class ScriptedModule : public Module {
 public:
  ScriptedModule(torch::jit::Module script, const PluginArgs& args)
      : network_(std::make_shared<ScriptedNetwork>(std::move(script))),
        inputs_(args.string_list("inputs")),
        target_(args.string("target")),
        loss_(loss_named(args)),
        output_key_(args.string("output_key")) {}

  torch::nn::Module& network() override { return *network_; }

  at::Tensor training_step(const Batch& batch, std::int64_t) override { return loss_of(batch).loss; }

  StepMetrics validation_step(const Batch& batch, std::int64_t) override {
    const LossParts parts = loss_of(batch);
    if (loss_ != Loss::cross_entropy) {
      const double samples = static_cast<double>(batch.size());
      return {{"loss", {parts.loss.item<double>() * samples, samples}}};
    }
    const at::Tensor counted = parts.labels.ne(-100);  // cross_entropy's ignore_index
    const double count = counted.sum().item<double>();
    const double correct = parts.logits.argmax(1).eq(parts.labels).logical_and(counted).sum().item<double>();
    return {{"loss", {parts.loss.item<double>() * count, count}}, {"accuracy", {correct, count}}};
  }

  c10::IValue predict_step(const Batch& batch, std::int64_t) override {
    const c10::IValue out = forward(batch, /*with_target=*/false);
    if (out.isGenericDict()) return out;
    c10::impl::GenericDict named(c10::StringType::get(), c10::AnyType::get());
    if (out.isTensor()) {
      named.insert("prediction", out);
    } else if (out.isTuple() || out.isList()) {
      const std::vector<c10::IValue> items = out.isTuple() ? out.toTupleRef().elements().vec() : out.toListRef().vec();
      for (std::size_t i = 0; i < items.size(); ++i) named.insert(fmt::format("output_{}", i), items[i]);
    } else {
      throw Error(fmt::format("the TorchScript forward returned a {}; predict writes tensors, or dicts, tuples or lists of them",
                              out.tagKind()));
    }
    return named;
  }

  std::unique_ptr<torch::optim::Optimizer> configure_optimizers() override {
    throw ConfigError("a TorchScript model brings no optimizer; add one to the job, e.g. "
                      "optimizer: {class_path: adam, init_args: {lr: 0.001}}");
  }

 private:
  c10::IValue forward(const Batch& batch, bool with_target) {
    std::vector<c10::IValue> arguments;
    for (const std::string& name : inputs_) arguments.emplace_back(batch.field(name));
    if (with_target) arguments.emplace_back(batch.field(target_));
    try {
      return network_->script().forward(std::move(arguments));
    } catch (const c10::Error& e) {
      throw Error(fmt::format("the TorchScript forward failed on inputs ({}{}): {}", fmt::join(inputs_, ", "),
                              with_target ? ", " + target_ : "", e.what_without_backtrace()));
    }
  }

  // The tensor the loss reads from what forward returned.
  at::Tensor output_for_loss(const c10::IValue& out) const {
    if (out.isTensor()) return out.toTensor();
    if (out.isTuple() && !out.toTupleRef().elements().empty() && out.toTupleRef().elements()[0].isTensor())
      return out.toTupleRef().elements()[0].toTensor();
    if (out.isList() && !out.toListRef().empty() && out.toListRef()[0].isTensor()) return out.toListRef()[0].toTensor();
    if (out.isGenericDict()) {
      const auto dict = out.toGenericDict();
      if (dict.contains(output_key_) && dict.at(output_key_).isTensor()) return dict.at(output_key_).toTensor();
      std::vector<std::string> keys;
      for (const auto& item : dict) keys.push_back(item.key().isString() ? item.key().toStringRef() : "?");
      throw Error(fmt::format("the TorchScript forward returned a dict without a tensor '{}' (it has: {}); set model.output_key",
                              output_key_, fmt::join(keys, ", ")));
    }
    throw Error(fmt::format("the TorchScript forward returned a {}; the loss needs a tensor", out.tagKind()));
  }

  // The scalar loss; with cross_entropy also the logits [N, C] and labels [N] it compared.
  struct LossParts {
    at::Tensor loss;
    at::Tensor logits = {};
    at::Tensor labels = {};
  };
  LossParts loss_of(const Batch& batch) {
    switch (loss_) {
      case Loss::none:
        throw ConfigError("model.loss is not set; fit and validate need cross_entropy, mse or module");
      case Loss::module: {
        const c10::IValue out = forward(batch, /*with_target=*/true);
        if (out.isTensor()) return {out.toTensor()};
        if (out.isGenericDict() && out.toGenericDict().contains("loss") && out.toGenericDict().at("loss").isTensor())
          return {out.toGenericDict().at("loss").toTensor()};
        throw Error("loss: module needs forward(inputs..., target) to return the loss, or a dict with a 'loss' tensor");
      }
      case Loss::cross_entropy: {
        const at::Tensor logits = output_for_loss(forward(batch, false));
        const auto [flat_logits, labels] = classification_pair(logits, batch.field(target_));
        return {torch::nn::functional::cross_entropy(flat_logits, labels), flat_logits, labels};
      }
      case Loss::mse: {
        const at::Tensor output = output_for_loss(forward(batch, false));
        const at::Tensor& target = batch.field(target_);
        if (output.numel() != target.numel())
          throw Error(fmt::format("mse: forward returned {} but the target is {}", shape_of(output), shape_of(target)));
        return {torch::nn::functional::mse_loss(output, target.reshape(output.sizes()).to(output.scalar_type()))};
      }
    }
    throw Error("unknown loss");
  }

  std::shared_ptr<ScriptedNetwork> network_;
  std::vector<std::string> inputs_;
  std::string target_;
  Loss loss_;
  std::string output_key_;
};

}  // namespace

std::unique_ptr<Module> load_scripted_module(const PluginArgs& args) {
  const std::filesystem::path path = args.string("torchscript");
  if (!std::filesystem::is_regular_file(path))
    throw DataError(fmt::format("{}: error: TorchScript file not found\n  fix: check model.torchscript in the job file",
                                path.string()));
  torch::jit::Module script;
  try {
    script = torch::jit::load(path.string());
  } catch (const c10::Error& e) {
    std::string reason = e.what_without_backtrace();
    reason = reason.substr(0, reason.find('\n'));
    throw DataError(fmt::format("{}: error: not a TorchScript file ({})\n  fix: write it in Python with "
                                "torch.jit.save(torch.jit.script(model), path)",
                                path.string(), reason));
  }
  if (!script.find_method("forward"))
    throw DataError(fmt::format("{}: error: the TorchScript module has no forward method", path.string()));
  return std::make_unique<ScriptedModule>(std::move(script), args);
}

}  // namespace minitrain
