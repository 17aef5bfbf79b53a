#pragma once
// Walking the tensors inside a (nested) value: dict values, list and tuple
// items, in order — the order torch.save's Pickler meets them in.
#include <ATen/core/ivalue.h>

#include <functional>

namespace minitrain {

void for_each_tensor(const c10::IValue& value, const std::function<void(const at::Tensor&)>& visit);

// The same structure with every tensor replaced by fn(tensor).
c10::IValue map_tensors(const c10::IValue& value, const std::function<at::Tensor(const at::Tensor&)>& fn);

}  // namespace minitrain
