// Exported models: AOTInductor packages run by LibTorch's package loader.
#include "minitrain/models/exported_module.hpp"

#include <fmt/format.h>

#include "minitrain/base/error.hpp"
#include "minitrain/base/torch_compat.hpp"

#if MINITRAIN_HAS_AOTI_PACKAGE_LOADER
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/nn/module.h>
#include <zip.h>

#include <filesystem>
#include <optional>
#include <regex>

#include "minitrain/base/log.hpp"
#endif

namespace minitrain {

std::vector<ArgProblem> exported_module_problems(const PluginArgs&) {
  if (MINITRAIN_HAS_AOTI_PACKAGE_LOADER) return {};
  return {{"exported", fmt::format("exported models (torch.export + AOTInductor packages) need LibTorch {} or later; this "
                                   "minitrain is built against LibTorch {} (Debian 13 ships 2.6). Here, save the model "
                                   "as TorchScript instead: torch.jit.save(torch.jit.script(model), path), then "
                                   "model: {{torchscript: path}}",
                                   compat::kExportedModelsNeed, TORCH_VERSION)}};
}

#if !MINITRAIN_HAS_AOTI_PACKAGE_LOADER

std::unique_ptr<Module> load_exported_module(const PluginArgs& args) {
  throw ConfigError(exported_module_problems(args).front().message);
}

#else

namespace {

using Json = nlohmann::json;

// A pytree spec (torch.utils._pytree's JSON, protocol 1) as the loader reports it.
Json parse_spec(const std::string& text, const std::string& what) {
  const Json spec = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!spec.is_array() || spec.size() != 2 || spec[0] != 1 || !spec[1].is_object())
    throw DataError(fmt::format("the package's {} spec is not a pytree spec of protocol 1: {}", what, text.substr(0, 200)));
  return spec[1];
}

std::size_t count_leaves(const Json& node) {
  if (node["type"].is_null()) return 1;
  std::size_t leaves = 0;
  for (const Json& child : node["children_spec"]) leaves += count_leaves(child);
  return leaves;
}

// A dict node's keys: its context is the JSON text of the key list (defaultdict's nests it).
std::vector<std::string> dict_keys(const Json& node) {
  Json context = Json::parse(node["context"].get<std::string>());
  if (context.is_object() && context.contains("dict_context")) context = context["dict_context"];
  std::vector<std::string> keys;
  for (const Json& key : context) keys.push_back(key.is_string() ? key.get<std::string>() : key.dump());
  return keys;
}

// Puts the flat outputs back in the structure forward returned.
c10::IValue unflatten(const Json& node, const std::vector<at::Tensor>& leaves, std::size_t& next) {
  if (node["type"].is_null()) return leaves.at(next++);
  const std::string type = node["type"].get<std::string>();
  const Json& children = node["children_spec"];
  if (type == "builtins.NoneType") return c10::IValue();
  if (type == "builtins.dict" || type == "collections.OrderedDict" || type == "collections.defaultdict") {
    const std::vector<std::string> keys = dict_keys(node);
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    for (std::size_t i = 0; i < children.size() && i < keys.size(); ++i) dict.insert(keys[i], unflatten(children[i], leaves, next));
    return dict;
  }
  if (type == "builtins.tuple" || type == "builtins.list" || type == "collections.namedtuple" ||
      type.rfind("torch.return_types.", 0) == 0) {
    std::vector<c10::IValue> items;
    for (const Json& child : children) items.push_back(unflatten(child, leaves, next));
    return c10::ivalue::Tuple::create(std::move(items));
  }
  throw Error(fmt::format("the exported forward returns a {}; minitrain writes tensors, and dicts, tuples and lists of them",
                          type));
}

// The C++ wrapper AOTInductor generated (data/aotinductor/<model>/<hash>.cpp in the package), if it is there.
std::optional<std::string> wrapper_source(const std::filesystem::path& package) {
  int error = 0;
  zip_t* archive = zip_open(package.c_str(), ZIP_RDONLY, &error);
  if (!archive) return std::nullopt;
  std::optional<std::string> source;
  for (zip_int64_t i = 0; i < zip_get_num_entries(archive, 0) && !source; ++i) {
    const std::string name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    zip_stat_t stat;
    if (name.rfind("data/aotinductor/", 0) != 0 || !name.ends_with(".cpp") ||
        zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &stat) != 0)
      continue;
    if (zip_file_t* file = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0)) {
      std::string text(stat.size, '\0');
      if (zip_fread(file, text.data(), stat.size) == static_cast<zip_int64_t>(stat.size)) source = std::move(text);
      zip_fclose(file);
    }
  }
  zip_close(archive);
  return source;
}

// Whether the compiled forward reads its batch size from an input ("auto arg0_1_size
// = arg0_1.sizes(); int64_t s0 = arg0_1_size[0];"). A package exported without a
// dynamic batch dimension never does: its kernels assume the exported size and,
// AOTInductor checking no input shapes, would read past a shorter batch and
// leave rows of a longer one half computed. nullopt: the source is not there.
std::optional<bool> reads_batch_size(const std::filesystem::path& package) {
  const std::optional<std::string> source = wrapper_source(package);
  if (!source) return std::nullopt;
  static const std::regex input(R"(auto (\w+) = std::move\(inputs\[\d+\]\);)");
  for (std::sregex_iterator it(source->begin(), source->end(), input), end; it != end; ++it) {
    if (source->find((*it)[1].str() + "_size[0]") != std::string::npos) return true;
  }
  return false;
}

class ExportedModule : public ForwardModule {
 public:
  ExportedModule(const std::filesystem::path& path, const PluginArgs& args)
      : ForwardModule(args, "exported"), path_(path), loader_(path.string()) {
    const std::vector<std::string> call_spec = loader_.get_call_spec();
    if (call_spec.size() != 2) throw DataError(fmt::format("{}: error: the package has no call spec", path.string()));
    const Json in_spec = parse_spec(call_spec[0], "input");
    out_spec_ = parse_spec(call_spec[1], "output");
    // forward(*args, **kwargs): minitrain passes the `inputs` fields as args.
    const Json& call = in_spec["children_spec"];
    if (call.size() != 2 || count_leaves(call[1]) != 0)
      throw DataError(fmt::format("{}: error: the exported forward takes keyword arguments; minitrain passes model.inputs "
                                  "positionally\n  fix: export with args only, e.g. torch.export.export(model, (x,))",
                                  path.string()));
    const std::optional<bool> dynamic_batch = reads_batch_size(path);
    if (dynamic_batch == false)
      throw DataError(fmt::format("{}: error: the package was exported for a fixed batch size; minitrain's batches vary (the "
                                  "last one is shorter), and AOTInductor does not check input shapes\n  fix: export with a "
                                  "dynamic batch dimension, e.g. torch.export.export(model, (x,), dynamic_shapes={{\"x\": "
                                  "{{0: torch.export.Dim(\"batch\")}}}})",
                                  path.string()));
    if (!dynamic_batch)
      log::warn(fmt::format("{}: cannot tell whether the package was exported with a dynamic batch dimension (no "
                            "generated source in it); a fixed-size package gives wrong rows for other batch sizes",
                            path.string()));
    const std::size_t expected = count_leaves(call[0]);
    const std::size_t named = inputs().size();
    if (expected != named && !(passes_target() && expected == named + 1))
      throw DataError(fmt::format("{}: error: the exported forward takes {} tensor(s) but model.inputs names {}\n  fix: list "
                                  "the batch fields forward takes, in order, under model.inputs",
                                  path.string(), expected, named));
  }

  torch::nn::Module& network() override { return network_; }

  std::unique_ptr<torch::optim::Optimizer> configure_optimizers() override {
    throw ConfigError("an exported model cannot be trained: its weights are compiled into the package");
  }

 protected:
  c10::IValue run_forward(std::vector<at::Tensor> arguments) override {
    const std::int64_t rows = arguments.empty() ? 0 : arguments.front().size(0);
    for (at::Tensor& argument : arguments) argument = argument.contiguous();  // the compiled kernels assume dense inputs
    std::vector<at::Tensor> outputs;
    try {
      outputs = loader_.run(arguments);
    } catch (const std::exception& e) {
      throw Error(fmt::format("{}: the exported forward failed: {}", path_.string(), e.what()));
    }
    check_rows(outputs, rows);
    std::size_t next = 0;
    return unflatten(out_spec_, outputs, next);
  }

 private:
  // A second guard for packages whose source could not be read: a fixed-size
  // package often returns its exported number of rows whatever it is given.
  void check_rows(const std::vector<at::Tensor>& outputs, std::int64_t rows) const {
    bool batched = false;
    std::int64_t other = -1;
    for (const at::Tensor& output : outputs) {
      if (output.dim() == 0) continue;
      if (output.size(0) == rows) batched = true;
      else other = output.size(0);
    }
    if (!batched && other >= 0)
      throw Error(fmt::format("{}: the exported model returned {} rows for a batch of {}: it was exported for a fixed batch "
                              "size\n  fix: export with a dynamic batch dimension, e.g. torch.export.export(model, (x,), "
                              "dynamic_shapes={{\"x\": {{0: torch.export.Dim(\"batch\")}}}})",
                              path_.string(), other, rows));
  }

  std::filesystem::path path_;
  torch::inductor::AOTIModelPackageLoader loader_;
  Json out_spec_;
  torch::nn::Module network_;  // no parameters: the weights live in the package
};

}  // namespace

std::unique_ptr<Module> load_exported_module(const PluginArgs& args) {
  const std::filesystem::path path = args.string("exported");
  if (!std::filesystem::is_regular_file(path))
    throw DataError(fmt::format("{}: error: exported model package not found\n  fix: check model.exported in the job file",
                                path.string()));
  try {
    return std::make_unique<ExportedModule>(path, args);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string reason = e.what();
    reason = reason.substr(0, reason.find('\n'));
    throw DataError(fmt::format("{}: error: not an AOTInductor package ({})\n  fix: write it in Python with "
                                "torch._inductor.aoti_compile_and_package(torch.export.export(model, args), "
                                "package_path=path)",
                                path.string(), reason));
  }
}

#endif

}  // namespace minitrain
