#include "minitrain/io/collate.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <functional>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace {

std::string name_of(const std::string& where) { return where.empty() ? "the prediction" : where; }

// Dims of one group of tensors to concatenate: BioNeMo's rules on shapes alone.
struct TensorRule {
  std::int64_t ndim;                  // after 0-d tensors become [1]
  std::int64_t batch_dim;
  std::optional<std::int64_t> seq_dim;  // unset: 1-D, concatenated without padding
};

TensorRule rule_for(const std::vector<at::Tensor>& tensors, std::int64_t batch_dim, std::int64_t seq_dim,
                    const std::string& where) {
  const std::int64_t ndim = std::max<std::int64_t>(tensors.front().dim(), 1);
  for (std::size_t i = 1; i < tensors.size(); ++i) {
    if (std::max<std::int64_t>(tensors[i].dim(), 1) != ndim)
      throw Error(fmt::format("cannot collate {}: batch 0 has {} dims, batch {} has {}", name_of(where), ndim, i, tensors[i].dim()));
  }
  if (ndim == 1) return {1, 0, std::nullopt};
  try {
    return {ndim, c10::maybe_wrap_dim(batch_dim, ndim), c10::maybe_wrap_dim(seq_dim, ndim)};
  } catch (const c10::Error& e) {
    throw Error(fmt::format("cannot collate {} (batch_dim {}, seq_dim {}): {}", name_of(where), batch_dim, seq_dim,
                            e.what_without_backtrace()));
  }
}

std::vector<std::int64_t> sizes_of(const at::Tensor& t) {
  return t.dim() == 0 ? std::vector<std::int64_t>{1} : t.sizes().vec();
}

// The result's sizes: the longest sequence, the sum of the batch dims; every other dim must agree.
std::vector<std::int64_t> collated_sizes(const std::vector<at::Tensor>& tensors, const TensorRule& rule, const std::string& where) {
  std::vector<std::int64_t> out = sizes_of(tensors.front());
  out[static_cast<std::size_t>(rule.batch_dim)] = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto sizes = sizes_of(tensors[i]);
    for (std::int64_t d = 0; d < rule.ndim; ++d) {
      const auto du = static_cast<std::size_t>(d);
      if (d == rule.batch_dim) {
        out[du] += sizes[du];
      } else if (rule.seq_dim && d == *rule.seq_dim) {
        out[du] = std::max(out[du], sizes[du]);
      } else if (sizes[du] != out[du]) {
        throw Error(fmt::format("cannot collate {}: dim {} is {} in batch 0 but {} in batch {}", name_of(where), d, out[du], sizes[du], i));
      }
    }
  }
  return out;
}

at::Tensor collate_in_memory(std::vector<at::Tensor> tensors, const TensorRule& rule, const std::string& where) {
  collated_sizes(tensors, rule, where);  // the same checks as a plan
  for (auto& t : tensors) {
    if (t.dim() == 0) t = t.unsqueeze(0);
  }
  if (rule.seq_dim) {
    const std::int64_t sdim = *rule.seq_dim;
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
  }
  try {
    return at::cat(tensors, rule.batch_dim);
  } catch (const c10::Error& e) {
    throw Error(fmt::format("cannot collate {}: {}", name_of(where), e.what_without_backtrace()));
  }
}

using TensorCollator = std::function<c10::IValue(const std::vector<at::Tensor>&, const TensorRule&, const std::string&)>;

std::vector<c10::IValue> elements_of(const c10::IValue& value) {
  if (value.isTuple()) return value.toTupleRef().elements().vec();
  return value.toList().vec();
}

// The one traversal both ways share.
c10::IValue collate(std::vector<c10::IValue> batches, std::int64_t batch_dim, std::int64_t seq_dim,
                    const CollateOptions& options, const std::string& where, const TensorCollator& collate_tensors) {
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
    return collate_tensors(tensors, rule_for(tensors, batch_dim, seq_dim, where), where);
  }
  if (first.isGenericDict()) {
    c10::impl::GenericDict out(first.toGenericDict().keyType(), c10::AnyType::get());
    for (const auto& entry : first.toGenericDict()) {
      const c10::IValue& key = entry.key();
      const std::string key_name = key.isString() ? key.toStringRef() : key.tagKind();
      std::vector<c10::IValue> values;
      for (std::size_t i = 0; i < batches.size(); ++i) {
        const auto dict = batches[i].toGenericDict();
        const auto found = dict.find(key);
        if (found == dict.end())
          throw Error(fmt::format("cannot collate {}: key '{}' is in batch 0 but not in batch {}", name_of(where), key_name, i));
        values.push_back(found->value());
      }
      const auto b = options.batch_dim_key_defaults.find(key_name);
      const auto s = options.seq_dim_key_defaults.find(key_name);
      out.insert(key, collate(std::move(values), b != options.batch_dim_key_defaults.end() ? b->second : batch_dim,
                              s != options.seq_dim_key_defaults.end() ? s->second : seq_dim, options,
                              where.empty() ? key_name : where + "." + key_name, collate_tensors));
    }
    return out;
  }
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
      collated.push_back(collate(std::move(columns[j]), batch_dim, seq_dim, options, fmt::format("{}[{}]", where, j), collate_tensors));
    if (first.isTuple()) return c10::ivalue::Tuple::create(std::move(collated));
    c10::impl::GenericList list(c10::AnyType::get());
    for (auto& item : collated) list.push_back(std::move(item));
    return list;
  }
  throw Error(fmt::format("cannot collate {}: a {} is not a tensor, dict, list, tuple or None", name_of(where), first.tagKind()));
}

}  // namespace

c10::IValue batch_collator(const std::vector<c10::IValue>& batches, const CollateOptions& options) {
  return collate(batches, options.batch_dim, options.seq_dim, options, "",
                 [](const std::vector<at::Tensor>& tensors, const TensorRule& rule, const std::string& where) {
                   return c10::IValue(collate_in_memory(tensors, rule, where));
                 });
}

CollationPlan plan_collation(const std::vector<c10::IValue>& batches, const CollateOptions& options) {
  CollationPlan plan;
  plan.structure = collate(
      batches, options.batch_dim, options.seq_dim, options, "",
      [&plan](const std::vector<at::Tensor>& tensors, const TensorRule& rule, const std::string& where) {
        const at::ScalarType dtype = tensors.front().scalar_type();
        for (std::size_t i = 1; i < tensors.size(); ++i) {
          if (tensors[i].scalar_type() != dtype)
            throw Error(fmt::format("cannot collate {}: batch 0 is {}, batch {} is {}; cast them to one dtype", name_of(where),
                                    c10::toString(dtype), i, c10::toString(tensors[i].scalar_type())));
        }
        CollatedTensor out{where, dtype, collated_sizes(tensors, rule, where), rule.batch_dim, rule.seq_dim, tensors, {}};
        // Never touched, so it costs address space, not memory.
        out.placeholder = at::empty(out.sizes, at::TensorOptions().dtype(dtype));
        plan.tensors.push_back(out);
        return c10::IValue(out.placeholder);
      });
  return plan;
}

}  // namespace minitrain
