#include "minitrain/models/scripted_module.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/csrc/jit/serialization/import.h>
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

// The script's forward under the shared loss and outputs of forward models.
class ScriptedModule : public ForwardModule {
 public:
  ScriptedModule(torch::jit::Module script, const PluginArgs& args)
      : ForwardModule(args, "TorchScript"), network_(std::make_shared<ScriptedNetwork>(std::move(script))) {}

  torch::nn::Module& network() override { return *network_; }

  std::unique_ptr<torch::optim::Optimizer> configure_optimizers() override {
    throw ConfigError("a TorchScript model brings no optimizer; add one to the job, e.g. "
                      "optimizer: {class_path: adam, init_args: {lr: 0.001}}");
  }

 protected:
  c10::IValue run_forward(std::vector<at::Tensor> arguments) override {
    return network_->script().forward(std::vector<c10::IValue>(arguments.begin(), arguments.end()));
  }

 private:
  std::shared_ptr<ScriptedNetwork> network_;
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
