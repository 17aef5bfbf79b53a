// The built-in model kinds.
#include "minitrain/models/model_kinds.hpp"

#include "minitrain/data/tokenizer.hpp"
#include "minitrain/models/exported_module.hpp"
#include "minitrain/models/protein_encoder.hpp"
#include "minitrain/models/scripted_module.hpp"

namespace minitrain {

namespace {

std::unique_ptr<Module> make_encoder(const PluginArgs& args) {
  return make_protein_encoder(args, AminoAcidTokenizer().vocab_size());
}

constexpr ModelKind kModelKinds[] = {
    {"protein_encoder", "a small transformer encoder of protein sequences with a masked-token loss", false,
     kProteinEncoderParams, protein_encoder_arg_problems, make_encoder, true, true, false, true},
    {"torchscript", "a TorchScript file from Python (torch.jit.script or trace, then torch.jit.save)", true,
     kScriptedModuleParams, nullptr, load_scripted_module, false, false, true, true},
    {"exported", "an AOTInductor package from Python (torch.export, then torch._inductor.aoti_compile_and_package)", true,
     kExportedModuleParams, exported_module_problems, load_exported_module, false, false, true, false},
};

}  // namespace

std::span<const ModelKind> model_kinds() { return kModelKinds; }

const ModelKind* find_model_kind(const std::string& name) { return find_by_name<ModelKind>(kModelKinds, name); }

const char* model_class_paths() {
  static const std::string names = [] {
    std::string joined;
    for (const ModelKind& kind : kModelKinds) {
      if (kind.named_by_key) continue;
      if (!joined.empty()) joined += '|';
      joined += kind.name;
    }
    return joined;
  }();
  return names.c_str();
}

}  // namespace minitrain
