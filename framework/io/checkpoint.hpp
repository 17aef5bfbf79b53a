#pragma once
// Model weights as a file Python reads with torch.load as {name: tensor}, the
// shape of a state_dict, and their loading back into a network.
#include <ATen/core/ivalue.h>

#include <filesystem>

namespace torch::nn {
class Module;
}

namespace minitrain {

void save_weights(torch::nn::Module& network, const std::filesystem::path& path);
// Reads bare weights, or the weights inside a training checkpoint. Throws
// DataError naming missing, unexpected or mis-shaped entries.
void load_weights(torch::nn::Module& network, const std::filesystem::path& path);
// The same for a file already read by load_pickled; `source` names it in errors.
void load_weights(torch::nn::Module& network, const c10::IValue& loaded, const std::filesystem::path& source);

// The network's parameters and buffers as {name: tensor} on the CPU.
c10::impl::GenericDict state_dict_of(torch::nn::Module& network);
// Copies `state_dict` into the network after checking that it fits; `source` names it in errors.
void load_state_dict(torch::nn::Module& network, const c10::IValue& state_dict, const std::filesystem::path& source);

}  // namespace minitrain
