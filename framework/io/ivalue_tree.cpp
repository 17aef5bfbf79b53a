#include "minitrain/io/ivalue_tree.hpp"

namespace minitrain {

void for_each_tensor(const c10::IValue& value, const std::function<void(const at::Tensor&)>& visit) {
  if (value.isTensor()) {
    visit(value.toTensor());
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) for_each_tensor(entry.value(), visit);
  } else if (value.isList()) {
    for (const c10::IValue& item : value.toListRef()) for_each_tensor(item, visit);
  } else if (value.isTuple()) {
    for (const auto& item : value.toTupleRef().elements()) for_each_tensor(item, visit);
  }
}

void for_each_named_tensor(const c10::IValue& value, const std::function<void(const std::string&, const at::Tensor&)>& visit,
                           const std::string& prefix) {
  const auto join = [&](const std::string& part) { return prefix.empty() ? part : prefix + "." + part; };
  if (value.isTensor()) {
    visit(prefix, value.toTensor());
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict())
      for_each_named_tensor(entry.value(), visit, join(entry.key().isString() ? entry.key().toStringRef() : entry.key().tagKind()));
  } else if (value.isList() || value.isTuple()) {
    const auto items = value.isList() ? value.toListRef() : value.toTupleRef().elements();
    for (std::size_t i = 0; i < items.size(); ++i) for_each_named_tensor(items[i], visit, join(std::to_string(i)));
  }
}

c10::IValue map_tensors(const c10::IValue& value, const std::function<at::Tensor(const at::Tensor&)>& fn) {
  if (value.isTensor()) return fn(value.toTensor());
  if (value.isGenericDict()) {
    const auto in = value.toGenericDict();
    c10::impl::GenericDict out(in.keyType(), in.valueType());
    for (const auto& entry : in) out.insert(entry.key(), map_tensors(entry.value(), fn));
    return out;
  }
  if (value.isList()) {
    const auto in = value.toList();
    c10::impl::GenericList out(in.elementType());
    for (const c10::IValue& item : value.toListRef()) out.push_back(map_tensors(item, fn));
    return out;
  }
  if (value.isTuple()) {
    std::vector<c10::IValue> items;
    for (const auto& item : value.toTupleRef().elements()) items.push_back(map_tensors(item, fn));
    return c10::ivalue::Tuple::create(std::move(items));
  }
  return value;
}

}  // namespace minitrain
