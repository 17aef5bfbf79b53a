#include "prediction_writer.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "minitrain/io/ivalue_tree.hpp"
#include "minitrain/io/prediction_file.hpp"
#include "minitrain/io/prediction_ids.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/io/unpadded.hpp"
#include "output_dir.hpp"
#include "unpadding.hpp"

namespace minitrain::plugins {

namespace fs = std::filesystem;

namespace {

WriteInterval write_interval_named(const std::string& name) {
  if (name == "batch") return WriteInterval::batch;
  if (name == "epoch") return WriteInterval::epoch;
  return WriteInterval::batch_and_epoch;  // the schema allows nothing else
}

at::ScalarType dtype_named(const std::string& name) {
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float64") return at::kDouble;
  return at::kFloat;
}

std::size_t bytes_of(const c10::IValue& value) {
  std::size_t bytes = 0;
  for_each_tensor(value, [&](const at::Tensor& t) { bytes += t.storage().nbytes(); });
  return bytes;
}

at::Tensor int64_tensor(std::span<const std::int64_t> values) {
  return at::tensor(std::vector<std::int64_t>(values.begin(), values.end()), at::kLong);
}

// A batch made outside a DataLoader may carry no IDs; its rows are then named by their index.
std::vector<std::string> ids_of(const PredictBatchEnd& event) {
  if (event.batch.ids.size() == event.batch_indices.size()) return event.batch.ids;
  std::vector<std::string> ids;
  for (const std::int64_t index : event.batch_indices) ids.push_back(std::to_string(index));
  return ids;
}

}  // namespace

PredictionWriter::PredictionWriter(const PluginArgs& args)
    : output_dir_(args.string("output_dir")),
      format_(args.string("format") == "safetensors" ? PredictionFormat::safetensors : PredictionFormat::pt),
      write_interval_(write_interval_named(args.string("write_interval"))),
      overwrite_(args.boolean("overwrite")),
      resume_(resumes(args.boolean("resume"), overwrite_)) {
  if (overwrite_ && resume_)
    throw Error("prediction_writer: overwrite and resume cannot both be true: overwrite replaces an earlier run's "
                "files, resume keeps them\n  fix: set one of them to false");
  files_per_subdir_ = args.optional_integer("files_per_subdir");
  if (args.has("keys")) keys_ = args.string_list("keys");
  if (args.has("unpadded_keys")) unpadded_keys_ = args.string_list("unpadded_keys");
  if (args.has("dtype")) {
    dtype_name_ = args.string("dtype");
    dtype_ = dtype_named(dtype_name_);
  }
  lossy_dtype_is_error_ = args.string("lossy_dtype") == "error";
  save_options_.fsync = args.boolean("fsync");
  const std::int64_t max_pending_mb = args.integer("max_pending_mb");
  collate_options_.batch_dim_key_defaults = args.string_int_map("batch_dim_key_defaults");
  collate_options_.seq_dim_key_defaults = args.string_int_map("seq_dim_key_defaults");

  check_output_dir(output_dir_, !overwrite_ && !resume_);  // before the run starts, and without writing anything
  writer_ = std::make_unique<AsyncWriter>(static_cast<std::size_t>(max_pending_mb) << 20);
  if (resume_) earlier_ = EarlierRun(output_dir_);  // read before rank 0 removes the manifest at setup
}

// Pending writes finish first (the AsyncWriter waits for them), before the epoch file they write into goes.
PredictionWriter::~PredictionWriter() { writer_.reset(); }

void PredictionWriter::connect(Events& events) {
  control_ = &events.control;
  events_ = &events;
  on(events.setup, &PredictionWriter::on_setup);
  // A failed background write surfaces at the next event of the loop.
  on(events.predict_batch_start, [this](const PredictBatchStart&) {
    if (predicting_) writer_->check();
  });
  on(events.predict_batch_end, [this](const PredictBatchEnd& e) {
    on_batch_end(e);
    if (predicting_) announce_progress(false);
  });
  if (write_epochs()) {
    on(events.predict_epoch_start, &PredictionWriter::on_epoch_start);
    on(events.predict_epoch_end, &PredictionWriter::on_epoch_end);
  }
  on(events.predict_end, &PredictionWriter::on_predict_end);
  // Whatever failed, the batches already handed over are finished, not lost.
  on(events.exception, [this](const ExceptionEvent&) {
    if (!predicting_) return;
    try {
      writer_->drain();
    } catch (const std::exception& e) {
      log::warn(fmt::format("prediction_writer: {}", e.what()));
    }
  });
}

fs::path PredictionWriter::spill_dir() const { return output_dir_ / fmt::format(".spill__rank_{}", rank_); }

void PredictionWriter::remove_own_files() const {
  for (const fs::path& file : prediction_files(output_dir_, rank_, true)) {
    fs::remove(file);
    fs::remove(ids_sidecar_of(file));
  }
  fs::remove_all(spill_dir());
}

void PredictionWriter::on_setup(const Setup& event) {
  predicting_ = event.stage == Stage::predict;
  if (!predicting_) return;
  rank_ = event.global_rank;
  world_size_ = event.world_size;
  std::error_code ec;
  fs::create_directories(output_dir_, ec);
  if (ec)
    throw Error(fmt::format("prediction_writer: cannot create output_dir {}: {}\n  fix: choose a directory you can "
                            "write to",
                            output_dir_.string(), ec.message()));
  if (overwrite_) {
    // This rank's files from an earlier run go, so none is left over from a run that had more batches.
    remove_own_files();
  } else if (resume_) {
    // Final names only ever hold complete files; temporaries of a killed run are dropped.
    for (const auto& [file, name] : prediction_files_in(output_dir_)) {
      if (name.rank == rank_ && name.temporary) fs::remove(file);
    }
    const fs::path epoch = epoch_file(output_dir_, rank_, format_);
    if (write_epochs() && fs::exists(epoch)) kept_epoch_ = earlier_.unchanged(epoch);
    epoch_done_ = write_epochs() && fs::exists(epoch);
  } else {
    refuse_existing_predictions(output_dir_, rank_);
  }
  // An earlier run's manifest would vouch for files this run may replace; the new one comes at the end.
  // With resume, every rank has read it first: they all pass this gather before rank 0 removes it.
  if (resume_ && world_size_ > 1) control_->all_gather("");
  if (rank_ == 0) fs::remove(output_dir_ / kManifestName);
}

c10::impl::GenericDict PredictionWriter::output_of(const PredictBatchEnd& event) {
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  auto prepare = [this](const c10::IValue& value, const std::string& key) {
    return map_tensors(value, [&](const at::Tensor& t) {
      return compact_cpu(dtype_ && t.is_floating_point() ? downcasts_.cast(t, *dtype_, key) : t);
    });
  };
  if (event.prediction.isGenericDict()) {
    const auto prediction = event.prediction.toGenericDict();
    std::vector<std::string> available;
    for (const auto& entry : prediction) {
      if (!entry.key().isString())
        throw Error(fmt::format("prediction_writer: predict_step returned a dict with a {} key; keys must be strings",
                                entry.key().tagKind()));
      available.push_back(entry.key().toStringRef());
    }
    for (const std::string& key : keys_ ? *keys_ : available) {
      if (key == kBatchIdxKey || key == kBatchIndicesKey || key == kIdsKey)
        throw Error(fmt::format("prediction_writer: predict_step returned the key '{}', which the writer reserves; "
                                "rename that output",
                                key));
      const auto found = prediction.find(key);
      if (found == prediction.end())
        throw Error(fmt::format("prediction_writer: keys names '{}', but predict_step returned only: {}", key,
                                fmt::join(available, ", ")));
      out.insert(key, prepare(found->value(), key));
    }
  } else {
    if (keys_)
      throw Error(fmt::format("prediction_writer: keys is set, but predict_step returned a {}, not a dict",
                              event.prediction.tagKind()));
    out.insert("prediction", prepare(event.prediction, "prediction"));
  }
  unpad_outputs(out, unpadded_keys_, event.batch);
  out.insert(kBatchIdxKey, at::tensor(std::vector<std::int64_t>{event.batch_idx}, at::kLong));
  out.insert(kBatchIndicesKey, int64_tensor(event.batch_indices));
  out.insert(kIdsKey, ids_value(ids_of(event)));
  if (format_ == PredictionFormat::safetensors) out = flat_prediction_tensors(out);
  if (lossy_dtype_is_error_ && downcasts_.lost_any())
    throw Error(fmt::format("prediction_writer: dtype {} would alter batch {}'s predictions: {}\n  fix: use dtype: "
                            "bfloat16 (float32's range) or null, or lossy_dtype: warn to write them anyway",
                            dtype_name_, event.batch_idx, downcasts_.describe()));
  return out;
}

void PredictionWriter::keep_existing(const fs::path& file, const PredictBatchEnd& event, std::shared_ptr<WrittenBatch> slot,
                                     const ManifestFile* listed) {
  std::vector<std::int64_t> indices(event.batch_indices.begin(), event.batch_indices.end());
  const auto refuse = [file] {  // by value: the writer thread may call it after this returns
    return Error(fmt::format("prediction_writer: cannot resume: {} holds other samples than this job's batch (its "
                             "batch_indices differ), so it comes from a different job\n  fix: use overwrite: true or "
                             "another output_dir",
                             file.string()));
  };
  if (listed && listed->indices != indices) throw refuse();
  if (listed && !slot) {  // vouched for by the manifest, and not needed for an epoch file: nothing to read
    record(*listed);
    ++files_kept_;
    return;
  }
  const bool counts = write_batches();  // a spill file is no output
  writer_->submit(
      [this, file, slot, counts, listed, refuse, batch_idx = event.batch_idx, indices = std::move(indices)] {
        c10::IValue existing;
        WrittenBatch described = read_written_batch(file, &existing);
        if (!at::equal(existing.toGenericDict().at(kBatchIndicesKey).toTensor().to(at::kLong), int64_tensor(indices)))
          throw refuse();
        if (slot) *slot = std::move(described);
        if (counts) record(listed ? *listed : describe_prediction_file(output_dir_, file, "batch", rank_, {batch_idx}, indices, existing));
        ++files_kept_;
      },
      0);
}

void PredictionWriter::on_epoch_start(const PredictEpochStart& event) {
  epoch_rows_ = event.samples;
  epoch_batch_count_ = event.num_batches;
  direct_possible_ = !epoch_done_ && unpadded_keys_.empty();  // unpadded rows differ in length: no layout up front
}

std::shared_ptr<WrittenBatch> PredictionWriter::epoch_slot() {
  epoch_batches_.push_back(std::make_shared<WrittenBatch>());
  return epoch_batches_.back();
}

// Whether this batch's rows go straight into the epoch file; the first batch lays it out.
bool PredictionWriter::write_directly(const c10::impl::GenericDict& output) {
  if (!direct_possible_) return false;
  if (!direct_) {
    direct_ = epoch_batches_.empty() ? DirectEpochFile::start(output, epoch_rows_, epoch_batch_count_, collate_options_,
                                                              epoch_file(output_dir_, rank_, format_), format_, save_options_)
                                     : nullptr;
    direct_possible_ = direct_ != nullptr;
    return direct_possible_;
  }
  if (direct_->admit(output)) return true;
  give_up_direct();
  return false;
}

// The rows written directly so far become the first source of the epoch's assembly.
void PredictionWriter::give_up_direct() {
  direct_possible_ = false;
  if (!direct_) return;
  writer_->submit([slot = epoch_slot(), direct = direct_.get(), source = spill_dir() / "epoch_rows"] {
    *slot = direct->release_as_source(source);
  }, 0);
}

void PredictionWriter::on_batch_end(const PredictBatchEnd& event) {
  if (!predicting_) return;
  writer_->check();
  if (event.prediction.isNone()) return;
  const bool for_epoch = write_epochs() && !epoch_done_;
  if (!write_batches() && !for_epoch) return;
  const fs::path file = write_batches() ? batch_file(output_dir_, rank_, event.batch_idx, files_per_subdir_, format_)
                                        : spill_dir() / fmt::format("batch_{}.pt", event.batch_idx);
  const PredictionFormat format = write_batches() ? format_ : PredictionFormat::pt;  // spill files are ours alone
  if (for_epoch) {
    epoch_batch_numbers_.push_back(event.batch_idx);
    epoch_indices_.insert(epoch_indices_.end(), event.batch_indices.begin(), event.batch_indices.end());
    if (!unpadded_keys_.empty()) {
      const std::vector<std::int64_t> lengths = row_lengths(attention_mask_of(event.batch));
      epoch_lengths_.insert(epoch_lengths_.end(), lengths.begin(), lengths.end());
    }
  }
  if (resume_ && fs::exists(file)) {
    const ManifestFile* listed = write_batches() ? earlier_.unchanged(file) : nullptr;  // may remove a changed file
    if (fs::exists(file)) {
      if (for_epoch) give_up_direct();  // its rows come from the file kept
      return keep_existing(file, event, for_epoch ? epoch_slot() : nullptr, listed);
    }
  }
  c10::impl::GenericDict output = output_of(event);
  DirectEpochFile* direct = for_epoch && write_directly(output) ? direct_.get() : nullptr;
  std::shared_ptr<WrittenBatch> slot = for_epoch && !direct ? epoch_slot() : nullptr;
  const bool counts = write_batches();
  const bool save = counts || slot;  // a batch file, or a spill file for the epoch's assembly
  const std::size_t bytes = bytes_of(output);
  std::vector<std::int64_t> indices(event.batch_indices.begin(), event.batch_indices.end());
  writer_->submit(
      [this, output = std::move(output), file, format, slot, counts, save, direct, batch_idx = event.batch_idx,
       indices = std::move(indices)] {
        std::optional<FileSum> sum;
        if (save) {
          fs::create_directories(file.parent_path());
          std::vector<std::uint64_t> offsets = save_prediction_file(output, file, format, save_options_, &sum);
          if (slot) *slot = describe_written(output, file, std::move(offsets));
        }
        if (direct) direct->write(output);
        if (!counts) return;
        record(describe_prediction_file(output_dir_, file, "batch", rank_, {batch_idx}, indices, output, sum));
        ++files_written_;
      },
      bytes);
}

void PredictionWriter::on_epoch_end(const PredictEpochEnd&) {
  if (!predicting_) return;
  writer_->drain();
  const fs::path file = epoch_file(output_dir_, rank_, format_);
  if (epoch_done_ && kept_epoch_) {
    record(*kept_epoch_);  // as the manifest that vouches for it lists it
    ++files_kept_;
  } else if (epoch_done_) {
    // Kept whole from an earlier run without a manifest: read once more, for its shapes and indices.
    const c10::impl::GenericDict kept = load_prediction_file(file);
    const at::Tensor indices = kept.at(kBatchIndicesKey).toTensor().contiguous();
    const at::Tensor batches = kept.at(kBatchIdxKey).toTensor().contiguous();
    record(describe_prediction_file(output_dir_, file, "epoch", rank_,
                                    {batches.data_ptr<std::int64_t>(), batches.data_ptr<std::int64_t>() + batches.numel()},
                                    {indices.data_ptr<std::int64_t>(), indices.data_ptr<std::int64_t>() + indices.numel()}, kept));
    ++files_kept_;
  } else if (direct_ && direct_possible_ && direct_->complete()) {
    const c10::IValue structure = direct_->finish();
    record(describe_prediction_file(output_dir_, file, "epoch", rank_, epoch_batch_numbers_, epoch_indices_, structure,
                                    direct_->sum()));
    ++files_written_;
  } else {
    if (direct_possible_) {  // fewer rows came than the epoch announced
      give_up_direct();
      writer_->drain();
    }
    if (!epoch_batches_.empty()) write_assembled_epoch(file);
  }
  direct_.reset();
  epoch_batches_.clear();
  epoch_batch_numbers_.clear();
  epoch_indices_.clear();
  epoch_lengths_.clear();
  fs::remove_all(spill_dir());
}

void PredictionWriter::write_assembled_epoch(const fs::path& file) {
  std::vector<WrittenBatch> batches;
  for (const auto& slot : epoch_batches_) batches.push_back(*slot);
  std::map<std::string, at::Tensor> whole;  // the epoch's offsets, not the batches' side by side
  for (const std::string& key : unpadded_keys_) whole[offsets_key(key)] = offsets_of(epoch_lengths_);
  std::optional<FileSum> sum;
  const c10::IValue structure = assemble_epoch_file(batches, collate_options_, file, format_, save_options_, whole, &sum);
  record(describe_prediction_file(output_dir_, file, "epoch", rank_, epoch_batch_numbers_, epoch_indices_, structure, sum));
  ++files_written_;
}

void PredictionWriter::on_predict_end(const PredictEnd&) {
  if (!predicting_) return;
  writer_->drain();
  const std::string kept = files_kept_ ? fmt::format(", kept {} complete file(s) of an earlier run", files_kept_.load()) : "";
  log::info(fmt::format("prediction_writer: wrote {} file(s) to {}{}", files_written_.load(), fs::absolute(output_dir_).string(), kept));
  write_manifest_of_every_rank();
  announce_progress(true);
  if (downcasts_.lost_any())
    log::warn(fmt::format("prediction_writer: dtype {} altered the predictions written: {}; use dtype: bfloat16 "
                          "(float32's range) or null to keep them, or lossy_dtype: error to stop instead",
                          dtype_name_, downcasts_.describe()));
}

}  // namespace minitrain::plugins

MINITRAIN_REGISTER_PLUGIN(minitrain::plugins::PredictionWriter, minitrain::plugins::kPredictionWriterInfo)
