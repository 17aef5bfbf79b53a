#pragma once
// Walking the tensors inside a (nested) value: dict values, list and tuple
// items, in order — the order torch.save's Pickler meets them in.
#include <ATen/core/ivalue.h>

#include <functional>
#include <string>

namespace minitrain {

void for_each_tensor(const c10::IValue& value, const std::function<void(const at::Tensor&)>& visit);

// The same walk, with each tensor's name: its dict keys and list or tuple
// positions joined by '.' ("embeddings", "nested.score", "pair.0"), as
// formats without nesting (safetensors, HDF5 paths, a manifest) name them.
void for_each_named_tensor(const c10::IValue& value, const std::function<void(const std::string&, const at::Tensor&)>& visit,
                           const std::string& prefix = "");

// The same structure with every tensor replaced by fn(tensor).
c10::IValue map_tensors(const c10::IValue& value, const std::function<at::Tensor(const at::Tensor&)>& fn);

}  // namespace minitrain
