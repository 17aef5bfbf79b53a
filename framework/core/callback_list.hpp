#pragma once
// The callbacks of a run, in job-file order, each under a stable key: its
// plugin name, with "#2", "#3", ... for further instances of the same plugin.
// Training checkpoints keep every callback's state under that key, so two
// instances of one plugin keep separate state and a resume restores each.
#include <ATen/core/ivalue.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "minitrain/core/callback.hpp"

namespace minitrain {

class CallbackList {
 public:
  void add(const std::string& name, std::shared_ptr<Callback> callback);
  void connect(Events& events);
  bool empty() const { return entries_.empty(); }

  // {key: state} of every callback that has state (state_dict() not None).
  c10::impl::GenericDict state_dict() const;
  // Hands each callback its saved state. Saved states that no callback takes
  // are reported by key in the returned list (the caller warns).
  std::vector<std::string> load_state_dict(const c10::IValue& states, const std::filesystem::path& source);

 private:
  std::vector<std::pair<std::string, std::shared_ptr<Callback>>> entries_;
};

}  // namespace minitrain
