#pragma once
// A TorchScript model (Python's torch.jit.script / torch.jit.trace, then
// torch.jit.save) as a minitrain Module, named in a job by
//   model: {torchscript: model.pt, inputs: [features], target: targets, loss: cross_entropy}
// forward gets the `inputs` batch fields, in order. Fit trains its parameters
// with the loss named in the job:
//   cross_entropy  forward's logits [B, C] or [B, L, C] against class labels [B] or [B, L]
//   mse            forward's output against targets of the same number of elements
//   module         forward(inputs..., target) returns the loss itself (a scalar, or a dict with "loss")
// When forward returns a dict, the loss reads its `output_key` entry; a tuple or list, its first item.
// Predict writes what forward returns, as a dict: a dict as it is, a tensor as
// {"prediction": tensor}, a tuple or list as {"output_0": ..., "output_1": ...}.
// Validation reports loss, and accuracy for cross_entropy.
#include <memory>

#include "minitrain/models/module.hpp"
#include "minitrain/base/params.hpp"

namespace minitrain {

// The model section when it names `torchscript:`.
inline constexpr ParamSpec kScriptedModuleParams[] = {
    {"torchscript", ParamType::Path, nullptr, "TorchScript file written by torch.jit.save", nullptr},
    {"inputs", ParamType::StringList, "[features]", "batch fields passed to forward, in order", nullptr},
    {"target", ParamType::String, "targets", "batch field the loss compares forward's output with", nullptr},
    {"loss", ParamType::Enum, "null", "the training loss (null: predict only)", "cross_entropy|mse|module"},
    {"output_key", ParamType::String, "logits", "the entry the loss reads when forward returns a dict", nullptr},
};

// Loads the file; throws DataError when it is missing or not TorchScript.
std::unique_ptr<Module> load_scripted_module(const PluginArgs& args);

}  // namespace minitrain
