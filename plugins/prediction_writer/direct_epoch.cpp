#include "direct_epoch.hpp"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "minitrain/base/error.hpp"
#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/crc32.hpp"
#include "minitrain/io/ivalue_tree.hpp"
#include "minitrain/io/prediction_file.hpp"
#include "minitrain/io/safetensors_format.hpp"
#include "minitrain/io/torch_archive.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

std::int64_t key_default(const DimByKey& dims, const std::string& key, std::int64_t fallback) {
  const auto found = dims.find(key);
  return found == dims.end() ? fallback : found->second;
}

std::uint64_t bytes_of(at::ScalarType dtype, const std::vector<std::int64_t>& sizes) {
  return static_cast<std::uint64_t>(c10::multiply_integers(sizes)) * c10::elementSize(dtype);
}

std::int64_t rows_of(const c10::impl::GenericDict& batch) {
  const c10::IValue indices = batch.at(kBatchIndicesKey);
  return indices.isTensor() ? indices.toTensor().numel() : -1;
}

}  // namespace

std::unique_ptr<DirectEpochFile> DirectEpochFile::start(const c10::impl::GenericDict& first, std::int64_t rows,
                                                        std::int64_t batches, const CollateOptions& options,
                                                        const fs::path& path, PredictionFormat format,
                                                        const SaveOptions& save_options) {
  if (rows <= 0 || batches <= 0 || !first.contains(kBatchIndicesKey)) return nullptr;
  const std::int64_t first_rows = rows_of(first);
  if (first_rows <= 0 || first_rows > rows) return nullptr;
  std::vector<Output> outputs;
  bool with_ids = false;
  for (const auto& entry : first) {
    const std::string& key = entry.key().toStringRef();
    if (key == kIdsKey && entry.value().isList()) {
      with_ids = true;
      continue;
    }
    if (!entry.value().isTensor()) return nullptr;
    const at::Tensor& t = entry.value().toTensor();
    if (t.dim() == 0 || key_default(options.batch_dim_key_defaults, key, options.batch_dim) != 0) return nullptr;
    Output out{key, t.scalar_type(), t.sizes().vec(), key == kBatchIdxKey, std::nullopt};
    if (out.per_batch) {
      out.sizes[0] *= batches;
    } else {
      if (t.size(0) != first_rows) return nullptr;
      out.sizes[0] = rows;
    }
    if (t.dim() >= 2) {
      std::int64_t seq = key_default(options.seq_dim_key_defaults, key, options.seq_dim);
      if (seq < 0) seq += t.dim();
      if (seq <= 0 || seq >= t.dim()) return nullptr;
      out.seq_dim = static_cast<std::size_t>(seq);
    }
    outputs.push_back(std::move(out));
  }
  std::unique_ptr<DirectEpochFile> file(new DirectEpochFile(std::move(outputs), with_ids, path, format, save_options));
  file->rows_ = rows;
  file->batches_ = batches;
  file->open();
  file->admit(first);
  return file;
}

DirectEpochFile::DirectEpochFile(std::vector<Output> outputs, bool with_ids, fs::path path, PredictionFormat format,
                                 SaveOptions save_options)
    : outputs_(std::move(outputs)), with_ids_(with_ids), path_(std::move(path)), temporary_(temporary_path_for(path_)),
      format_(format), save_options_(save_options) {}

DirectEpochFile::~DirectEpochFile() {
  archive_.reset();
  if (fd_ >= 0) ::close(fd_);
  std::error_code ignored;
  if (owns_file_) fs::remove(temporary_, ignored);
}

void DirectEpochFile::open() {
  if (format_ == PredictionFormat::pt) {
    TorchArchiveWriter::Options archive_options;
    archive_options.fsync = save_options_.fsync;
    archive_options.name_in_errors = path_;
    archive_ = std::make_unique<TorchArchiveWriter>(temporary_, archive_options);
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      const std::size_t reserved =
          archive_->reserve_record(fmt::format("data/{}", i), bytes_of(outputs_[i].dtype, outputs_[i].sizes));
      outputs_[i].offset = archive_->reserved_offset(reserved);
    }
    return;
  }
  std::vector<SafetensorsTensor> named;
  for (const Output& out : outputs_) named.push_back({out.key, out.dtype, out.sizes});
  SafetensorsLayout layout = plan_safetensors(named, prediction_metadata(path_, with_ids_));
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(fmt::format("cannot create {}: {}", path_.string(), std::strerror(errno)));
  write_all_at(fd_, layout.header.data(), layout.header.size(), 0, path_.string());
  std::uint64_t offset = layout.header.size();
  for (const std::size_t i : layout.order) {
    outputs_[i].offset = offset;
    offset += bytes_of(outputs_[i].dtype, outputs_[i].sizes);
  }
  header_ = std::move(layout.header);
  data_order_ = std::move(layout.order);
  if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0)
    throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
}

bool DirectEpochFile::admit(const c10::impl::GenericDict& batch) {
  if (batches_admitted_ >= batches_ || batch.contains(kIdsKey) != with_ids_ || !batch.contains(kBatchIndicesKey)) return false;
  if (batch.size() != outputs_.size() + (with_ids_ ? 1 : 0)) return false;
  const std::int64_t rows = rows_of(batch);
  if (rows <= 0 || rows_admitted_ + rows > rows_) return false;
  for (const Output& out : outputs_) {
    const auto found = batch.find(out.key);
    if (found == batch.end() || !found->value().isTensor()) return false;
    const at::Tensor& t = found->value().toTensor();
    if (t.scalar_type() != out.dtype || static_cast<std::size_t>(t.dim()) != out.sizes.size()) return false;
    if (t.size(0) != (out.per_batch ? out.sizes[0] / batches_ : rows)) return false;
    for (std::size_t d = 1; d < out.sizes.size(); ++d) {
      const std::int64_t size = t.size(static_cast<std::int64_t>(d));
      if (d == out.seq_dim ? size > out.sizes[d] : size != out.sizes[d]) return false;
    }
  }
  rows_admitted_ += rows;
  ++batches_admitted_;
  return true;
}

void DirectEpochFile::fill(std::size_t output, const void* data, std::size_t size) {
  Output& out = outputs_[output];
  if (archive_)
    archive_->fill_reserved(output, data, size);
  else {
    write_all_at(fd_, data, size, out.offset + out.filled, path_.string());
    out.crc = crc32_update(out.crc, data, size);
  }
  out.filled += size;
}

void DirectEpochFile::write_rows(std::size_t output, const at::Tensor& tensor) {
  const Output& out = outputs_[output];
  const at::Tensor t = tensor.contiguous();
  const char* bytes = static_cast<const char*>(t.data_ptr());
  if (!out.seq_dim || t.size(static_cast<std::int64_t>(*out.seq_dim)) == out.sizes[*out.seq_dim]) {
    fill(output, bytes, t.nbytes());
    return;
  }
  // Each run of rows below the sequence dim is followed by its padding, as the collator pads.
  const auto seq = static_cast<std::int64_t>(*out.seq_dim);
  const std::size_t inner = t.element_size() * static_cast<std::size_t>(c10::multiply_integers(t.sizes().slice(static_cast<std::size_t>(seq) + 1)));
  const std::size_t kept = static_cast<std::size_t>(t.size(seq)) * inner;
  const std::size_t padding = static_cast<std::size_t>(out.sizes[*out.seq_dim] - t.size(seq)) * inner;
  const std::int64_t runs = c10::multiply_integers(t.sizes().slice(0, static_cast<std::size_t>(seq)));
  std::vector<char> staging;
  staging.reserve(std::max<std::size_t>(1 << 20, kept + padding));
  for (std::int64_t run = 0; run < runs; ++run) {
    if (staging.size() + kept + padding > staging.capacity()) {
      fill(output, staging.data(), staging.size());
      staging.clear();
    }
    staging.insert(staging.end(), bytes + static_cast<std::size_t>(run) * kept, bytes + static_cast<std::size_t>(run + 1) * kept);
    staging.resize(staging.size() + padding, 0);
  }
  fill(output, staging.data(), staging.size());
}

void DirectEpochFile::write(const c10::impl::GenericDict& batch) {
  for (std::size_t i = 0; i < outputs_.size(); ++i) write_rows(i, batch.at(outputs_[i].key).toTensor());
  if (with_ids_)
    for (const c10::IValue& id : batch.at(kIdsKey).toListRef()) ids_.push_back(id.toStringRef());
  rows_written_ += rows_of(batch);
  ++batches_written_;
}

bool DirectEpochFile::complete() const { return rows_written_ == rows_ && batches_written_ == batches_; }

c10::IValue DirectEpochFile::structure(bool meta, bool with_rows_so_far) const {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  for (const Output& out : outputs_) {
    std::vector<std::int64_t> sizes = out.sizes;
    if (with_rows_so_far) sizes[0] = out.per_batch ? out.sizes[0] / batches_ * batches_written_ : rows_written_;
    // Never touched, so it costs address space, not memory.
    dict.insert(out.key, at::empty(sizes, at::TensorOptions().dtype(out.dtype).device(meta ? at::kMeta : at::kCPU)));
  }
  if (with_ids_) {
    c10::impl::GenericList ids(c10::StringType::get());
    for (const std::string& id : ids_) ids.push_back(id);
    dict.insert(kIdsKey, ids);
  }
  return dict;
}

c10::IValue DirectEpochFile::finish() {
  if (!complete())
    throw Error(fmt::format("{}: the epoch file got {} of {} rows and {} of {} batches", path_.string(), rows_written_,
                            rows_, batches_written_, batches_));
  const c10::IValue written = structure(false, false);
  if (archive_) {
    const Pickled pickled = pickle_value(written);
    // The pickle names the storages in the order the records were reserved in: the dict's.
    std::size_t i = 0;
    for_each_tensor(written, [&](const at::Tensor& t) {
      if (i >= pickled.storages.size() || !pickled.storages[i].is_alias_of(t))
        throw Error(fmt::format("{}: the pickle does not name the tensors in record order", path_.string()));
      ++i;
    });
    write_pickle_records(*archive_, pickled.program);
    archive_->finish();
    sum_ = {archive_->size(), archive_->file_crc32()};
    archive_.reset();
  } else {
    write_ids_sidecar(path_, with_ids_ ? &ids_ : nullptr, save_options_);
    sum_ = {header_.size(), crc32_update(0, header_.data(), header_.size())};
    for (const std::size_t i : data_order_) {
      sum_.crc32 = crc32_concat(sum_.crc32, outputs_[i].crc, outputs_[i].filled);
      sum_.bytes += outputs_[i].filled;
    }
    if (save_options_.fsync && ::fsync(fd_) != 0)
      throw Error(fmt::format("cannot fsync {}: {}", path_.string(), std::strerror(errno)));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
  }
  commit_file(temporary_, path_, save_options_);
  owns_file_ = false;
  return written;
}

WrittenBatch DirectEpochFile::release_as_source(const fs::path& source) {
  fs::create_directories(source.parent_path());
  fs::rename(temporary_, source);
  owns_file_ = false;
  archive_.reset();  // unfinished: the file is read by offset, never as an archive
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::vector<std::uint64_t> offsets;
  for (const Output& out : outputs_) offsets.push_back(out.offset);
  return WrittenBatch{source, structure(true, true), std::move(offsets)};
}

}  // namespace minitrain
