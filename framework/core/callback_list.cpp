#include "minitrain/core/callback_list.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "minitrain/base/error.hpp"

namespace minitrain {

void CallbackList::add(const std::string& name, std::shared_ptr<Callback> callback) {
  const auto same = std::count_if(entries_.begin(), entries_.end(), [&](const auto& entry) {
    return entry.first == name || entry.first.rfind(name + "#", 0) == 0;
  });
  entries_.emplace_back(same == 0 ? name : fmt::format("{}#{}", name, same + 1), std::move(callback));
}

void CallbackList::connect(Events& events) {
  for (auto& [key, callback] : entries_) callback->connect(events);
}

c10::impl::GenericDict CallbackList::state_dict() const {
  c10::impl::GenericDict states(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [key, callback] : entries_) {
    c10::IValue state = callback->state_dict();
    if (!state.isNone()) states.insert(key, std::move(state));
  }
  return states;
}

std::vector<std::string> CallbackList::load_state_dict(const c10::IValue& states, const std::filesystem::path& source) {
  if (!states.isGenericDict())
    throw DataError(fmt::format("{}: 'callbacks' is not a dict of callback states; was the file written by minitrain?",
                                source.string()));
  std::vector<std::string> unused;
  const c10::impl::GenericDict saved = states.toGenericDict();
  for (const auto& item : saved) {
    if (!item.key().isString()) continue;
    const std::string key = item.key().toStringRef();
    const auto found = std::find_if(entries_.begin(), entries_.end(), [&](const auto& entry) { return entry.first == key; });
    if (found == entries_.end()) {
      unused.push_back(key);
      continue;
    }
    try {
      found->second->load_state_dict(item.value());
    } catch (const std::exception& e) {
      throw DataError(fmt::format("{}: callback '{}' could not restore its state: {}", source.string(), key, e.what()));
    }
  }
  return unused;
}

}  // namespace minitrain
