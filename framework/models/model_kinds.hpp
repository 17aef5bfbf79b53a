#pragma once
// The built-in kinds of model, one table: the job loader checks a model
// section against it, `minitrain plugins` lists it, the job runner builds
// from it. A kind is named either by `class_path: NAME` with its `init_args`
// (protein_encoder), or by a key of the model section holding its file, the
// section's other keys being its arguments (torchscript: model.pt, exported: model.pt2).
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "minitrain/base/params.hpp"

namespace minitrain {

class Module;  // models/module.hpp; kept out, so the job-file code needs no LibTorch

struct ModelKind {
  const char* name;
  const char* description;
  bool named_by_key;  // `model: {NAME: FILE, ...}` rather than `class_path: NAME`
  std::span<const ParamSpec> params;
  // Arguments in range that do not fit together; may be null.
  std::vector<ArgProblem> (*problems)(const PluginArgs& args);
  std::unique_ptr<Module> (*make)(const PluginArgs& args);
  bool has_own_loss;       // false: fit and validate need the job's `loss`
  bool has_own_optimizer;  // false: fit needs the job's `optimizer:` section
  bool carries_weights;    // true: predict needs no ckpt_path
  bool trainable;          // false: neither fit nor ckpt_path (the weights are compiled in)
};

std::span<const ModelKind> model_kinds();
// nullptr when there is no such kind.
const ModelKind* find_model_kind(const std::string& name);
// "protein_encoder" (the class_path kinds, '|'-separated, for an Enum check).
const char* model_class_paths();

}  // namespace minitrain
