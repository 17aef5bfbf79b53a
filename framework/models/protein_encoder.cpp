#include "minitrain/models/protein_encoder.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorIndexing.h>
#include <fmt/format.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/transformercoder.h>
#include <torch/nn/modules/transformerlayer.h>
#include <torch/optim/adamw.h>

#include "minitrain/base/error.hpp"
#include "minitrain/data/tokenizer.hpp"

namespace minitrain {

namespace {

struct EncoderNetwork : torch::nn::Module {
  EncoderNetwork(const PluginArgs& args, std::int64_t vocab_size)
      : max_positions(args.integer("max_positions")),
        tokens(register_module("tokens", torch::nn::Embedding(vocab_size, args.integer("embed_dim")))),
        positions(register_module("positions", torch::nn::Embedding(max_positions, args.integer("embed_dim")))),
        encoder(register_module(
            "encoder",
            torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(
                torch::nn::TransformerEncoderLayerOptions(args.integer("embed_dim"), args.integer("num_heads"))
                    .dim_feedforward(args.integer("ff_dim"))
                    .dropout(args.number("dropout")),
                args.integer("num_layers"))))),
        norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({args.integer("embed_dim")})))),
        lm_head(register_module("lm_head", torch::nn::Linear(args.integer("embed_dim"), vocab_size))) {}

  // Hidden states [B, L, D] for token ids [B, L]; padding positions are ignored by attention.
  at::Tensor encode(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
    const std::int64_t length = input_ids.size(1);
    if (length > max_positions)
      throw Error(fmt::format("a batch holds {} tokens per sequence but model.init_args.max_positions is {}; raise "
                              "max_positions or lower data.max_length",
                              length, max_positions));
    const at::Tensor position_ids = at::arange(length, input_ids.options()).unsqueeze(0);
    at::Tensor x = tokens(input_ids) + positions(position_ids);
    // The C++ TransformerEncoder is sequence-first: [L, B, D].
    x = encoder->forward(x.transpose(0, 1), /*src_mask=*/at::Tensor(), /*src_key_padding_mask=*/attention_mask.logical_not());
    return norm(x.transpose(0, 1));
  }

  std::int64_t max_positions;
  torch::nn::Embedding tokens;
  torch::nn::Embedding positions;
  torch::nn::TransformerEncoder encoder;
  torch::nn::LayerNorm norm;
  torch::nn::Linear lm_head;
};

class ProteinEncoder : public Module {
 public:
  ProteinEncoder(const PluginArgs& args, std::int64_t vocab_size)
      : network_(std::make_shared<EncoderNetwork>(args, vocab_size)),
        mask_prob_(args.number("mask_prob")),
        lr_(args.number("lr")),
        weight_decay_(args.number("weight_decay")) {}

  torch::nn::Module& network() override { return *network_; }

  at::Tensor training_step(const Batch& batch, std::int64_t) override {
    const at::Tensor& input_ids = batch.field("input_ids");
    const at::Tensor draw = at::rand(input_ids.sizes(), at::TensorOptions().device(input_ids.device()));
    const auto [logits, targets] = masked_logits(batch, draw);
    return torch::nn::functional::cross_entropy(logits, targets);
  }

  // The same masked-residue task with a fixed mask per validation batch, so
  // epochs compare like with like and validation draws nothing from the
  // training random stream.
  StepMetrics validation_step(const Batch& batch, std::int64_t batch_idx) override {
    const at::Tensor& input_ids = batch.field("input_ids");
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0x5eed0000ULL + static_cast<std::uint64_t>(batch_idx));
    const at::Tensor draw = at::rand(input_ids.sizes(), generator, at::TensorOptions()).to(input_ids.device());
    const auto [logits, targets] = masked_logits(batch, draw);
    const double count = static_cast<double>(targets.numel());
    const double loss_sum = torch::nn::functional::cross_entropy(logits, targets).item<double>() * count;
    const double correct = logits.argmax(1).eq(targets).sum().item<double>();
    return {{"loss", {loss_sum, count}}, {"accuracy", {correct, count}}, {"perplexity", {loss_sum, count, true}}};
  }

  c10::IValue predict_step(const Batch& batch, std::int64_t) override {
    const at::Tensor& input_ids = batch.field("input_ids");
    const at::Tensor& attention_mask = batch.field("attention_mask");
    const at::Tensor hidden = network_->encode(input_ids, attention_mask);
    const at::Tensor weights = attention_mask.unsqueeze(-1).to(hidden.scalar_type());
    const at::Tensor embeddings = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0);
    c10::Dict<std::string, at::Tensor> out;
    out.insert("embeddings", embeddings);
    out.insert("token_logits", network_->lm_head(hidden));
    out.insert("input_ids", input_ids);
    return out;
  }

  // Masks residues where `draw` < mask_prob and returns the logits at the
  // masked positions [N, V] with the true tokens there [N].
  std::pair<at::Tensor, at::Tensor> masked_logits(const Batch& batch, const at::Tensor& draw) {
    const at::Tensor& input_ids = batch.field("input_ids");
    const at::Tensor& attention_mask = batch.field("attention_mask");
    const at::Tensor residues = input_ids.ge(AminoAcidTokenizer::kFirstResidue);
    at::Tensor masked = draw.lt(mask_prob_).logical_and(residues);
    // Every batch contributes to the loss, even when the draw masked nothing.
    if (!masked.any().item<bool>()) masked = residues;
    const at::Tensor corrupted = input_ids.masked_fill(masked, AminoAcidTokenizer::kMask);
    const at::Tensor logits = network_->lm_head(network_->encode(corrupted, attention_mask));
    return {logits.index({masked}), input_ids.index({masked})};
  }

  std::unique_ptr<torch::optim::Optimizer> configure_optimizers() override {
    return std::make_unique<torch::optim::AdamW>(network_->parameters(),
                                                 torch::optim::AdamWOptions(lr_).weight_decay(weight_decay_));
  }

 private:
  std::shared_ptr<EncoderNetwork> network_;
  double mask_prob_;
  double lr_;
  double weight_decay_;
};

}  // namespace

std::vector<ArgProblem> protein_encoder_arg_problems(const PluginArgs& args) {
  std::vector<ArgProblem> problems;
  if (!args.has("embed_dim") || !args.has("num_heads")) return problems;  // already reported
  const std::int64_t embed_dim = args.integer("embed_dim");
  const std::int64_t heads = args.integer("num_heads");
  if (heads < 1 || embed_dim % heads != 0)
    problems.push_back({"num_heads", fmt::format("{} does not divide embed_dim ({}); pick a divisor of it", heads, embed_dim)});
  return problems;
}

std::unique_ptr<Module> make_protein_encoder(const PluginArgs& args, std::int64_t vocab_size) {
  const auto problems = protein_encoder_arg_problems(args);
  if (!problems.empty())
    throw ConfigError(fmt::format("model.init_args.{}: {}", problems.front().key, problems.front().message));
  return std::make_unique<ProteinEncoder>(args, vocab_size);
}

}  // namespace minitrain
