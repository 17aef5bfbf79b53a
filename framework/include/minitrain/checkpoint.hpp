#pragma once
// Model weights as a file Python reads with torch.load as {name: tensor}, the
// shape of a state_dict, and their loading back into a network.
#include <filesystem>

namespace torch::nn {
class Module;
}

namespace minitrain {

void save_weights(torch::nn::Module& network, const std::filesystem::path& path);
// Throws DataError naming missing, unexpected or mis-shaped entries.
void load_weights(torch::nn::Module& network, const std::filesystem::path& path);

}  // namespace minitrain
