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

}  // namespace minitrain
