#include "minitrain/core/run_control.hpp"

#include "minitrain/base/error.hpp"

namespace minitrain {

void RunControl::request_stop(const std::string& reason) {
  if (stop_requested_) return;
  stop_requested_ = true;
  stop_reason_ = reason;
}

void RunControl::save_checkpoint(const std::filesystem::path& path) const {
  if (!writer_) throw Error("save_checkpoint: checkpoints can only be written while fit runs");
  writer_(path);
}

void RunControl::start_run(CheckpointWriter writer) {
  stop_requested_ = false;
  stop_reason_.clear();
  writer_ = std::move(writer);
}

void RunControl::end_run() { writer_ = nullptr; }

const RunIdentity& RunControl::identity() const {
  if (!identity_) identity_ = make_identity_ ? make_identity_() : RunIdentity{};
  return *identity_;
}

std::vector<std::string> RunControl::all_gather(const std::string& text) const {
  return gatherer_ ? gatherer_(text) : std::vector<std::string>{text};
}

void RunControl::set_identity(std::function<RunIdentity()> make_identity) {
  make_identity_ = std::move(make_identity);
  identity_.reset();
}

void RunControl::set_gatherer(Gatherer gatherer) { gatherer_ = std::move(gatherer); }

}  // namespace minitrain
