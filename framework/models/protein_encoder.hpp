#pragma once
// The built-in model: a small protein sequence encoder. Token embedding plus
// learned positions, a few transformer encoder layers and a language-model
// head, trained with a masked-token loss. Validation reports that loss, the
// accuracy on masked residues and the perplexity. predict_step returns
//   {"embeddings": [B, D] float (mean over real tokens),
//    "token_logits": [B, L, V] float, "input_ids": [B, L] int64}.
#include <memory>
#include <string>
#include <vector>

#include "minitrain/models/module.hpp"
#include "minitrain/base/params.hpp"

namespace minitrain {

// model.init_args of `class_path: protein_encoder`.
inline constexpr ParamSpec kProteinEncoderParams[] = {
    {"embed_dim", ParamType::Int, "64", "width of token embeddings and hidden states", nullptr, at_least(1)},
    {"num_layers", ParamType::Int, "2", "transformer encoder layers", nullptr, at_least(1)},
    {"num_heads", ParamType::Int, "4", "attention heads; must divide embed_dim", nullptr, at_least(1)},
    {"ff_dim", ParamType::Int, "128", "hidden width of each feed-forward block", nullptr, at_least(1)},
    {"dropout", ParamType::Float, "0.1", "dropout probability while training", nullptr},
    {"max_positions", ParamType::Int, "1024", "longest sequence (tokens) the position table holds", nullptr, at_least(1)},
    {"mask_prob", ParamType::Float, "0.15", "fraction of residues masked for the training loss", nullptr, in_range(0, 1, true, false)},
    {"lr", ParamType::Float, "0.001", "AdamW learning rate", nullptr},
    {"weight_decay", ParamType::Float, "0.01", "AdamW weight decay", nullptr},
};

// Arguments in range that do not fit together (num_heads must divide
// embed_dim); empty when all is well.
std::vector<ArgProblem> protein_encoder_arg_problems(const PluginArgs& args);

// Throws ConfigError when protein_encoder_arg_problems finds any.
std::unique_ptr<Module> make_protein_encoder(const PluginArgs& args, std::int64_t vocab_size);

}  // namespace minitrain
