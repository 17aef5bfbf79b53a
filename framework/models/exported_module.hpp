#pragma once
// A model Python exported with torch.export and compiled by AOTInductor into a
// package (torch._inductor.aoti_compile_and_package → model.pt2), run through
// LibTorch's AOTIModelPackageLoader and named in a job by
//   model: {exported: model.pt2, inputs: [features], loss: cross_entropy}
// Its inputs, loss and outputs are those of every forward model
// (forward_module.hpp): dict, tuple and tensor outputs come back in the
// structure Python returned. Predict and validate only: the weights are
// compiled into the package. Needs LibTorch 2.6 or later.
#include <memory>
#include <vector>

#include "minitrain/base/params.hpp"
#include "minitrain/models/forward_module.hpp"

namespace minitrain {

// The model section when it names `exported:`.
inline constexpr auto kExportedModuleParams = forward_params(
    {"exported", ParamType::Path, nullptr, "package from torch._inductor.aoti_compile_and_package (LibTorch 2.6+)", nullptr});

// On a LibTorch without AOTInductor's package loader: which version exported models need.
std::vector<ArgProblem> exported_module_problems(const PluginArgs& args);

// Loads the package; throws DataError when it is missing, not a package, or
// its forward takes another number of tensors than `inputs` names.
std::unique_ptr<Module> load_exported_module(const PluginArgs& args);

}  // namespace minitrain
