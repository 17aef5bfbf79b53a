#pragma once
// Records every event the Trainer emits, in order, for every loop.
#include <string>
#include <vector>

#include "minitrain/core/callback.hpp"

namespace minitrain::testing {

class SpyCallback : public Callback {
 public:
  std::vector<std::string> events;
  std::vector<std::int64_t> predicted_indices;  // batch_indices seen at predict batch end
  std::vector<std::int64_t> trained_indices;    // ... and at train batch end
  std::vector<std::string> exception_messages;
  std::vector<MetricValues> epoch_metrics;       // TrainEpochEnd::metrics, per epoch
  std::vector<MetricValues> validation_metrics;  // ValidationEpochEnd::metrics, per validation
  std::vector<std::int64_t> validated_epochs;

  void connect(Events& e) override {
    keep(e.setup.connect([this](const Setup& s) { events.push_back(std::string("setup:") + to_string(s.stage)); }));
    keep(e.teardown.connect([this](const Teardown& s) { events.push_back(std::string("teardown:") + to_string(s.stage)); }));
    keep(e.fit_start.connect([this](const FitStart&) { events.push_back("fit_start"); }));
    keep(e.fit_end.connect([this](const FitEnd&) { events.push_back("fit_end"); }));
    keep(e.train_epoch_start.connect([this](const TrainEpochStart&) { events.push_back("train_epoch_start"); }));
    keep(e.train_epoch_end.connect([this](const TrainEpochEnd& x) {
      events.push_back("train_epoch_end");
      epoch_metrics.push_back(x.metrics);
    }));
    keep(e.train_batch_start.connect([this](const TrainBatchStart&) { events.push_back("train_batch_start"); }));
    keep(e.train_batch_end.connect([this](const TrainBatchEnd& b) {
      events.push_back("train_batch_end");
      trained_indices.insert(trained_indices.end(), b.batch_indices.begin(), b.batch_indices.end());
    }));
    keep(e.validation_start.connect([this](const ValidationStart&) { events.push_back("validation_start"); }));
    keep(e.validation_end.connect([this](const ValidationEnd&) { events.push_back("validation_end"); }));
    keep(e.validation_epoch_start.connect([this](const ValidationEpochStart&) { events.push_back("validation_epoch_start"); }));
    keep(e.validation_epoch_end.connect([this](const ValidationEpochEnd& x) {
      events.push_back("validation_epoch_end");
      validation_metrics.push_back(x.metrics);
      validated_epochs.push_back(x.epoch);
    }));
    keep(e.validation_batch_start.connect([this](const ValidationBatchStart&) { events.push_back("validation_batch_start"); }));
    keep(e.validation_batch_end.connect([this](const ValidationBatchEnd&) { events.push_back("validation_batch_end"); }));
    keep(e.predict_start.connect([this](const PredictStart&) { events.push_back("predict_start"); }));
    keep(e.predict_end.connect([this](const PredictEnd&) { events.push_back("predict_end"); }));
    keep(e.predict_epoch_start.connect([this](const PredictEpochStart&) { events.push_back("predict_epoch_start"); }));
    keep(e.predict_epoch_end.connect([this](const PredictEpochEnd&) { events.push_back("predict_epoch_end"); }));
    keep(e.predict_batch_start.connect([this](const PredictBatchStart&) { events.push_back("predict_batch_start"); }));
    keep(e.predict_batch_end.connect([this](const PredictBatchEnd& b) {
      events.push_back("predict_batch_end");
      predicted_indices.insert(predicted_indices.end(), b.batch_indices.begin(), b.batch_indices.end());
    }));
    keep(e.exception.connect([this](const ExceptionEvent& x) {
      events.push_back("exception");
      exception_messages.push_back(x.message);
    }));
  }

 private:
  void keep(boost::signals2::connection c) { connections_.emplace_back(c); }
  std::vector<boost::signals2::scoped_connection> connections_;
};

}  // namespace minitrain::testing
