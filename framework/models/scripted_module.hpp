#pragma once
// A TorchScript model (Python's torch.jit.script / torch.jit.trace, then
// torch.jit.save) as a minitrain Module, named in a job by
//   model: {torchscript: model.pt, inputs: [features], target: targets, loss: cross_entropy}
// Its inputs, loss and outputs are those of every forward model (forward_module.hpp).
// Fit trains the script's own parameters in place.
#include <memory>

#include "minitrain/base/params.hpp"
#include "minitrain/models/forward_module.hpp"

namespace minitrain {

// The model section when it names `torchscript:`.
inline constexpr auto kScriptedModuleParams =
    forward_params({"torchscript", ParamType::Path, nullptr, "TorchScript file written by torch.jit.save", nullptr});

// Loads the file; throws DataError when it is missing or not TorchScript.
std::unique_ptr<Module> load_scripted_module(const PluginArgs& args);

}  // namespace minitrain
