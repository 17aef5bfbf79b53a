// Callback state in training checkpoints: saved under each callback's key,
// restored on resume, separate for two instances of one plugin.
#include <ATen/ATen.h>

#include "framework/line_regression.hpp"
#include "minitrain/core/callback_list.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/core/trainer.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::LineDataset;
using minitrain::testing::TempDir;

namespace {

// Counts train batches by `step`; its state is the count and the last loss seen.
class Counter : public Callback {
 public:
  explicit Counter(std::int64_t step) : step_(step) {}
  void connect(Events& events) override {
    connection_ = events.train_batch_end.connect([this](const TrainBatchEnd& e) {
      count += step_;
      last_loss = e.loss.item<double>();
    });
  }
  c10::IValue state_dict() const override {
    c10::impl::GenericDict state(c10::StringType::get(), c10::AnyType::get());
    state.insert("count", count);
    state.insert("last_loss", last_loss);
    return state;
  }
  void load_state_dict(const c10::IValue& state) override {
    count = state.toGenericDict().at("count").toInt();
    last_loss = state.toGenericDict().at("last_loss").toDouble();
  }
  std::int64_t count = 0;
  double last_loss = 0.0;

 private:
  std::int64_t step_;
  boost::signals2::scoped_connection connection_;
};

// A callback with nothing to keep.
class Stateless : public Callback {
 public:
  void connect(Events&) override {}
};

struct Run {
  std::shared_ptr<Counter> ones = std::make_shared<Counter>(1);
  std::shared_ptr<Counter> tens = std::make_shared<Counter>(10);
};

Run fit(std::int64_t max_epochs, const std::filesystem::path& checkpoint, bool resume) {
  at::manual_seed(0);  // the same initial weights every time
  Run run;
  CallbackList callbacks;
  callbacks.add("counter", run.ones);
  callbacks.add("stateless", std::make_shared<Stateless>());
  callbacks.add("counter", run.tens);
  Events events;
  callbacks.connect(events);
  minitrain::testing::LineModule module;
  DataLoader loader(std::make_shared<LineDataset>(8), {4});
  TrainerOptions options{{.max_epochs = max_epochs}};
  options.checkpoint_path = checkpoint;
  options.callbacks = &callbacks;
  if (resume) options.resume_from = LoadedCheckpoint{load_pickled(checkpoint), checkpoint};
  Trainer(options, events).fit(module, loader);
  return run;
}

}  // namespace

TEST_CASE("each callback's state is saved under its own key and restored on resume") {
  TempDir dir;
  const Run whole = fit(3, dir / "whole.pt", false);
  CHECK(whole.ones->count == 6);
  CHECK(whole.tens->count == 60);

  const Run first = fit(1, dir / "part.pt", false);
  const auto saved = load_pickled(dir / "part.pt").toGenericDict().at("callbacks").toGenericDict();
  CHECK(saved.size() == 2);  // the stateless callback keeps nothing
  CHECK(saved.at("counter").toGenericDict().at("count").toInt() == 2);
  CHECK(saved.at("counter#2").toGenericDict().at("count").toInt() == 20);

  const Run resumed = fit(3, dir / "part.pt", true);
  CHECK(resumed.ones->count == whole.ones->count);
  CHECK(resumed.tens->count == whole.tens->count);
  CHECK(resumed.ones->last_loss == whole.ones->last_loss);
}

TEST_CASE("saved states no callback takes are reported, and a callback that cannot restore names itself") {
  CallbackList callbacks;
  callbacks.add("counter", std::make_shared<Counter>(1));
  c10::impl::GenericDict states(c10::StringType::get(), c10::AnyType::get());
  states.insert("gone", c10::IValue(1));
  CHECK(callbacks.load_state_dict(states, "ckpt.pt") == std::vector<std::string>{"gone"});
  states.insert("counter", c10::IValue(std::string("not a dict")));
  CHECK_THROWS_WITH_AS(callbacks.load_state_dict(states, "ckpt.pt"),
                       doctest::Contains("ckpt.pt: callback 'counter' could not restore its state"), DataError);
}
