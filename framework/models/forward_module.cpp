// The loss, metrics and prediction dict of a model that is a forward function.
#include "minitrain/models/forward_module.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/functional/loss.h>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace {

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

}  // namespace

ForwardModule::ForwardModule(const PluginArgs& args, std::string kind)
    : inputs_(args.string_list("inputs")),
      target_(args.string("target")),
      loss_(!args.has("loss")                       ? Loss::none
            : args.string("loss") == "cross_entropy" ? Loss::cross_entropy
            : args.string("loss") == "mse"           ? Loss::mse
                                                     : Loss::module),
      output_key_(args.string("output_key")),
      kind_(std::move(kind)) {}

at::Tensor ForwardModule::training_step(const Batch& batch, std::int64_t) { return loss_of(batch).loss; }

StepMetrics ForwardModule::validation_step(const Batch& batch, std::int64_t) {
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

c10::IValue ForwardModule::predict_step(const Batch& batch, std::int64_t) {
  const c10::IValue out = forward(batch, /*with_target=*/false);
  if (out.isGenericDict()) return out;
  c10::impl::GenericDict named(c10::StringType::get(), c10::AnyType::get());
  if (out.isTensor()) {
    named.insert("prediction", out);
  } else if (out.isTuple() || out.isList()) {
    const std::vector<c10::IValue> items = out.isTuple() ? out.toTupleRef().elements().vec() : out.toListRef().vec();
    for (std::size_t i = 0; i < items.size(); ++i) named.insert(fmt::format("output_{}", i), items[i]);
  } else {
    throw Error(fmt::format("the {} forward returned a {}; predict writes tensors, or dicts, tuples or lists of them", kind_,
                            out.tagKind()));
  }
  return named;
}

c10::IValue ForwardModule::forward(const Batch& batch, bool with_target) {
  std::vector<at::Tensor> arguments;
  for (const std::string& name : inputs_) arguments.push_back(batch.field(name));
  if (with_target) arguments.push_back(batch.field(target_));
  try {
    return run_forward(std::move(arguments));
  } catch (const c10::Error& e) {
    throw Error(fmt::format("the {} forward failed on inputs ({}{}): {}", kind_, fmt::join(inputs_, ", "),
                            with_target ? ", " + target_ : "", e.what_without_backtrace()));
  }
}

at::Tensor ForwardModule::output_for_loss(const c10::IValue& out) const {
  if (out.isTensor()) return out.toTensor();
  if (out.isTuple() && !out.toTupleRef().elements().empty() && out.toTupleRef().elements()[0].isTensor())
    return out.toTupleRef().elements()[0].toTensor();
  if (out.isList() && !out.toListRef().empty() && out.toListRef()[0].isTensor()) return out.toListRef()[0].toTensor();
  if (out.isGenericDict()) {
    const auto dict = out.toGenericDict();
    if (dict.contains(output_key_) && dict.at(output_key_).isTensor()) return dict.at(output_key_).toTensor();
    std::vector<std::string> keys;
    for (const auto& item : dict) keys.push_back(item.key().isString() ? item.key().toStringRef() : "?");
    throw Error(fmt::format("the {} forward returned a dict without a tensor '{}' (it has: {}); set model.output_key", kind_,
                            output_key_, fmt::join(keys, ", ")));
  }
  throw Error(fmt::format("the {} forward returned a {}; the loss needs a tensor", kind_, out.tagKind()));
}

ForwardModule::LossParts ForwardModule::loss_of(const Batch& batch) {
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

}  // namespace minitrain
