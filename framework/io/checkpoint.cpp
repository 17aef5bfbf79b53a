#include "minitrain/io/checkpoint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/module.h>

#include <set>

#include "minitrain/base/error.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

namespace {
std::map<std::string, at::Tensor> named_state(torch::nn::Module& network) {
  std::map<std::string, at::Tensor> state;
  for (const auto& item : network.named_parameters(true)) state[item.key()] = item.value();
  for (const auto& item : network.named_buffers(true)) state[item.key()] = item.value();
  return state;
}
}  // namespace

c10::impl::GenericDict state_dict_of(torch::nn::Module& network) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, tensor] : named_state(network)) dict.insert(name, compact_cpu(tensor));
  return dict;
}

void save_weights(torch::nn::Module& network, const std::filesystem::path& path) { save_pickled(state_dict_of(network), path); }

void load_weights(torch::nn::Module& network, const std::filesystem::path& path) {
  load_weights(network, load_pickled(path), path);
}

void load_weights(torch::nn::Module& network, const c10::IValue& loaded, const std::filesystem::path& source) {
  const bool checkpoint = loaded.isGenericDict() && loaded.toGenericDict().contains("state_dict");
  load_state_dict(network, checkpoint ? loaded.toGenericDict().at("state_dict") : loaded, source);
}

void load_state_dict(torch::nn::Module& network, const c10::IValue& loaded, const std::filesystem::path& path) {
  if (!loaded.isGenericDict())
    throw DataError(fmt::format("{}: error: expected a dict of name: tensor (a state_dict), got a {}", path.string(), loaded.tagKind()));
  auto state = named_state(network);
  std::vector<std::string> unexpected, mismatched, missing;
  std::set<std::string> seen;
  for (const auto& entry : loaded.toGenericDict()) {
    const std::string name = entry.key().isString() ? entry.key().toStringRef() : "?";
    const auto it = state.find(name);
    if (it == state.end() || !entry.value().isTensor()) {
      unexpected.push_back(name);
      continue;
    }
    const at::Tensor& value = entry.value().toTensor();
    seen.insert(name);  // present: missing lists only names the file lacks
    if (value.sizes() != it->second.sizes())
      mismatched.push_back(fmt::format("{} (file {}, model {})", name, value.sizes(), it->second.sizes()));
  }
  for (const auto& [name, tensor] : state) {
    if (!seen.count(name)) missing.push_back(name);
  }
  if (!unexpected.empty() || !mismatched.empty() || !missing.empty()) {
    throw DataError(fmt::format("{}: error: these weights do not fit the model.\n  missing: {}\n  unexpected: {}\n  "
                                "wrong shape: {}\n  fix: use the ckpt_path written by a fit job with the same model.init_args",
                                path.string(), missing.empty() ? "none" : fmt::format("{}", fmt::join(missing, ", ")),
                                unexpected.empty() ? "none" : fmt::format("{}", fmt::join(unexpected, ", ")),
                                mismatched.empty() ? "none" : fmt::format("{}", fmt::join(mismatched, ", "))));
  }
  torch::NoGradGuard no_grad;
  for (const auto& entry : loaded.toGenericDict()) state.at(entry.key().toStringRef()).copy_(entry.value().toTensor());
}

}  // namespace minitrain
