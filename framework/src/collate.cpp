#include "minitrain/collate.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "minitrain/error.hpp"

namespace minitrain {

namespace {

c10::IValue collate(std::vector<c10::IValue> batches, std::int64_t batch_dim, std::int64_t seq_dim,
                    const CollateOptions& options, const std::string& where);

std::string name_of(const std::string& where) { return where.empty() ? "the prediction" : where; }

at::Tensor collate_tensors(std::vector<at::Tensor> tensors, std::int64_t batch_dim, std::int64_t seq_dim,
                           const std::string& where) {
  for (auto& t : tensors) {
    if (t.dim() == 0) t = t.unsqueeze(0);
  }
  const std::int64_t ndim = tensors.front().dim();
  for (std::size_t i = 1; i < tensors.size(); ++i) {
    if (tensors[i].dim() != ndim)
      throw Error(fmt::format("cannot collate {}: batch 0 has {} dims, batch {} has {}", name_of(where), ndim, i, tensors[i].dim()));
  }
  try {
    if (ndim == 1) return at::cat(tensors, 0);
    const std::int64_t bdim = c10::maybe_wrap_dim(batch_dim, ndim);
    const std::int64_t sdim = c10::maybe_wrap_dim(seq_dim, ndim);
    std::int64_t longest = 0;
    for (const auto& t : tensors) longest = std::max(longest, t.size(sdim));
    for (auto& t : tensors) {
      if (t.size(sdim) == longest) continue;
      // Right-pad with zeros along the sequence dim.
      auto shape = t.sizes().vec();
      shape[static_cast<std::size_t>(sdim)] = longest;
      at::Tensor padded = at::zeros(shape, t.options());
      padded.narrow(sdim, 0, t.size(sdim)).copy_(t);
      t = padded;
    }
    return at::cat(tensors, bdim);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("cannot collate {} (batch_dim {}, seq_dim {}): {}", name_of(where), batch_dim, seq_dim,
                            e.what_without_backtrace()));
  }
}

c10::IValue collate_dicts(const std::vector<c10::IValue>& batches, const CollateOptions& options, const std::string& where) {
  const auto first = batches.front().toGenericDict();
  c10::impl::GenericDict out(first.keyType(), c10::AnyType::get());
  for (const auto& entry : first) {
    const c10::IValue& key = entry.key();
    const std::string key_name = key.isString() ? key.toStringRef() : key.tagKind();
    std::vector<c10::IValue> values;
    values.reserve(batches.size());
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const auto dict = batches[i].toGenericDict();
      const auto found = dict.find(key);
      if (found == dict.end())
        throw Error(fmt::format("cannot collate {}: key '{}' is in batch 0 but not in batch {}", name_of(where), key_name, i));
      values.push_back(found->value());
    }
    const auto b = options.batch_dim_key_defaults.find(key_name);
    const auto s = options.seq_dim_key_defaults.find(key_name);
    out.insert(key, collate(std::move(values), b != options.batch_dim_key_defaults.end() ? b->second : options.batch_dim,
                            s != options.seq_dim_key_defaults.end() ? s->second : options.seq_dim, options,
                            where.empty() ? key_name : where + "." + key_name));
  }
  return out;
}

std::vector<c10::IValue> elements_of(const c10::IValue& value) {
  if (value.isTuple()) return value.toTupleRef().elements().vec();
  return value.toList().vec();
}

c10::IValue collate(std::vector<c10::IValue> batches, std::int64_t batch_dim, std::int64_t seq_dim,
                    const CollateOptions& options, const std::string& where) {
  if (batches.empty()) throw Error(fmt::format("cannot collate {}: there are no batches", name_of(where)));
  std::erase_if(batches, [](const c10::IValue& v) { return v.isNone(); });
  if (batches.empty()) return c10::IValue();
  const c10::IValue& first = batches.front();
  for (std::size_t i = 1; i < batches.size(); ++i) {
    if (batches[i].tagKind() != first.tagKind())
      throw Error(fmt::format("cannot collate {}: batch 0 holds a {}, batch {} a {}", name_of(where), first.tagKind(), i,
                              batches[i].tagKind()));
  }
  if (first.isTensor()) {
    std::vector<at::Tensor> tensors;
    for (const auto& v : batches) tensors.push_back(v.toTensor());
    return collate_tensors(std::move(tensors), batch_dim, seq_dim, where);
  }
  if (first.isGenericDict()) return collate_dicts(batches, options, where);
  if (first.isList() || first.isTuple()) {
    const std::size_t length = elements_of(first).size();
    std::vector<std::vector<c10::IValue>> columns(length);
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const auto items = elements_of(batches[i]);
      if (items.size() != length)
        throw Error(fmt::format("cannot collate {}: batch 0 has {} items, batch {} has {}", name_of(where), length, i, items.size()));
      for (std::size_t j = 0; j < length; ++j) columns[j].push_back(items[j]);
    }
    std::vector<c10::IValue> collated;
    for (std::size_t j = 0; j < length; ++j)
      collated.push_back(collate(std::move(columns[j]), batch_dim, seq_dim, options, fmt::format("{}[{}]", where, j)));
    if (first.isTuple()) return c10::ivalue::Tuple::create(std::move(collated));
    c10::impl::GenericList list(c10::AnyType::get());
    for (auto& item : collated) list.push_back(std::move(item));
    return list;
  }
  throw Error(fmt::format("cannot collate {}: a {} is not a tensor, dict, list, tuple or None", name_of(where), first.tagKind()));
}

}  // namespace

c10::IValue batch_collator(const std::vector<c10::IValue>& batches, const CollateOptions& options) {
  return collate(batches, options.batch_dim, options.seq_dim, options, "");
}

}  // namespace minitrain
