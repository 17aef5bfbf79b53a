// loss_watch: logs the training loss every `every` optimizer steps and counts
// the steps it has seen, a count that survives a stop and a resume.
#include <fmt/format.h>

#include "minitrain/base/log.hpp"
#include "minitrain/plugin_host/plugin.hpp"

namespace {

constexpr minitrain::ParamSpec kLossWatchParams[] = {
    {"every", minitrain::ParamType::Int, "10", "log the loss every N optimizer steps", nullptr, minitrain::at_least(1)},
    {"label", minitrain::ParamType::String, "loss_watch", "what each line starts with", nullptr},
};

class LossWatch : public minitrain::Callback {
 public:
  explicit LossWatch(const minitrain::PluginArgs& args) : every_(args.integer("every")), label_(args.string("label")) {}

  void connect(minitrain::Events& events) override {
    on(events.train_batch_end, [this](const minitrain::TrainBatchEnd& e) {
      ++steps_seen_;
      if (e.global_step % every_ == 0)
        minitrain::log::info(fmt::format("{}: step {} loss {:.4f} ({} batches seen)", label_, e.global_step,
                                         e.loss.item<double>(), steps_seen_));
    });
  }

  // Kept in every training checkpoint, handed back on resume.
  c10::IValue state_dict() const override { return c10::IValue(steps_seen_); }
  void load_state_dict(const c10::IValue& state) override { steps_seen_ = state.toInt(); }

 private:
  std::int64_t every_;
  std::string label_;
  std::int64_t steps_seen_ = 0;
};

constexpr minitrain::PluginInfo kLossWatchInfo = {"loss_watch", "1.0.0", "logs the training loss every N steps",
                                                  kLossWatchParams, std::size(kLossWatchParams)};

}  // namespace

MINITRAIN_REGISTER_PLUGIN(LossWatch, kLossWatchInfo)
