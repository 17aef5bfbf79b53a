#include "epoch_assembly.hpp"

#include <ATen/ATen.h>

#include <map>
#include <numeric>
#include <unordered_map>

#include "minitrain/io/file_ranges.hpp"
#include "minitrain/io/ivalue_tree.hpp"
#include "minitrain/io/prediction_file.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/safetensors_file.hpp"
#include "minitrain/io/torch_archive.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

at::Tensor meta_like(const at::Tensor& t) { return at::empty(t.sizes(), t.options().device(at::kMeta)); }

struct Location {
  const fs::path* file;
  std::uint64_t offset;
};

std::int64_t product(const std::vector<std::int64_t>& sizes, std::size_t from) {
  return std::accumulate(sizes.begin() + static_cast<std::ptrdiff_t>(from), sizes.end(), std::int64_t{1}, std::multiplies<>());
}

// Writes one collated tensor's bytes, in row-major order, from its sources.
class TensorStreamer {
 public:
  TensorStreamer(ByteSink& out, FileRanges& reader, const CollatedTensor& tensor,
                 const std::unordered_map<const c10::TensorImpl*, Location>& locations)
      : out_(out), reader_(reader), tensor_(tensor), element_size_(c10::elementSize(tensor.dtype)) {
    for (const at::Tensor& source : tensor.sources) {
      Source s;
      s.location = locations.at(source.unsafeGetTensorImpl());
      s.sizes = source.dim() == 0 ? std::vector<std::int64_t>{1} : source.sizes().vec();
      s.strides.assign(s.sizes.size(), 1);
      for (std::size_t d = s.sizes.size(); d-- > 1;) s.strides[d - 1] = s.strides[d] * s.sizes[d];
      sources_.push_back(std::move(s));
    }
  }

  void stream() {
    const auto batch_dim = static_cast<std::size_t>(tensor_.batch_dim);
    // The result is the batches' padded tensors side by side along the batch
    // dim: for every index over the dims before it, each batch's block in turn.
    std::vector<std::int64_t> prefix(batch_dim, 0);
    const std::int64_t prefixes = product(std::vector<std::int64_t>(tensor_.sizes.begin(), tensor_.sizes.begin() + static_cast<std::ptrdiff_t>(batch_dim)), 0);
    for (std::int64_t p = 0; p < prefixes; ++p) {
      for (const Source& source : sources_) {
        const auto seq = tensor_.seq_dim;
        if (seq && static_cast<std::size_t>(*seq) < batch_dim && prefix[static_cast<std::size_t>(*seq)] >= source.sizes[static_cast<std::size_t>(*seq)]) {
          out_.append_zeros(block_elements(source, batch_dim) * element_size_);
          continue;
        }
        std::int64_t base = 0;
        for (std::size_t d = 0; d < batch_dim; ++d) base += prefix[d] * source.strides[d];
        emit(source, batch_dim, base);
      }
      for (std::size_t d = batch_dim; d-- > 0;) {  // next prefix, last dim fastest
        if (++prefix[d] < tensor_.sizes[d]) break;
        prefix[d] = 0;
      }
    }
  }

 private:
  struct Source {
    Location location;
    std::vector<std::int64_t> sizes;
    std::vector<std::int64_t> strides;
  };

  // Elements of a padded source from dim `from` on.
  std::uint64_t block_elements(const Source& source, std::size_t from) const {
    std::vector<std::int64_t> padded = source.sizes;
    if (tensor_.seq_dim) padded[static_cast<std::size_t>(*tensor_.seq_dim)] = tensor_.sizes[static_cast<std::size_t>(*tensor_.seq_dim)];
    return static_cast<std::uint64_t>(product(padded, from));
  }

  void emit(const Source& source, std::size_t dim, std::int64_t base) {
    const auto seq = tensor_.seq_dim;
    const bool no_padding_below = !seq || static_cast<std::size_t>(*seq) < dim ||
                                  source.sizes[static_cast<std::size_t>(*seq)] == tensor_.sizes[static_cast<std::size_t>(*seq)];
    if (no_padding_below) {
      copy(source, base, static_cast<std::uint64_t>(product(source.sizes, dim)));
      return;
    }
    if (dim == static_cast<std::size_t>(*seq)) {
      const std::int64_t inner = product(source.sizes, dim + 1);
      copy(source, base, static_cast<std::uint64_t>(source.sizes[dim] * inner));
      out_.append_zeros(static_cast<std::uint64_t>((tensor_.sizes[dim] - source.sizes[dim]) * inner) * element_size_);
      return;
    }
    for (std::int64_t i = 0; i < source.sizes[dim]; ++i) emit(source, dim + 1, base + i * source.strides[dim]);
  }

  void copy(const Source& source, std::int64_t first_element, std::uint64_t elements) {
    std::uint64_t offset = source.location.offset + static_cast<std::uint64_t>(first_element) * element_size_;
    std::uint64_t remaining = elements * element_size_;
    while (remaining > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer_.size()));
      reader_.read(*source.location.file, offset, n, buffer_.data());
      out_.append(buffer_.data(), n);
      offset += n;
      remaining -= n;
    }
  }

  ByteSink& out_;
  FileRanges& reader_;
  const CollatedTensor& tensor_;
  const std::size_t element_size_;
  std::vector<Source> sources_;
  std::vector<char> buffer_ = std::vector<char>(1 << 20);  // small enough to stay in the CPU cache between read and write
};

}  // namespace

WrittenBatch describe_written(const c10::IValue& value, fs::path file, std::vector<std::uint64_t> tensor_offsets) {
  return {std::move(file), map_tensors(value, meta_like), std::move(tensor_offsets)};
}

WrittenBatch read_written_batch(const fs::path& file, c10::IValue* loaded) {
  std::vector<std::uint64_t> tensor_offsets;
  const c10::impl::GenericDict value = load_prediction_file(file, &tensor_offsets);
  if (loaded) *loaded = value;
  return describe_written(value, file, std::move(tensor_offsets));
}

c10::IValue assemble_epoch_file(const std::vector<WrittenBatch>& batches, const CollateOptions& options, const fs::path& path,
                                PredictionFormat format, const SaveOptions& save_options,
                                const std::map<std::string, at::Tensor>& whole, std::optional<FileSum>* sum) {
  std::vector<c10::IValue> skeletons;
  std::unordered_map<const c10::TensorImpl*, Location> locations;
  // The IDs are joined in batch order; the collator sees only the rest.
  c10::impl::GenericList ids(c10::StringType::get());
  bool with_ids = false;
  for (const WrittenBatch& batch : batches) {
    c10::IValue skeleton = batch.skeleton;
    if (skeleton.isGenericDict()) {
      c10::impl::GenericDict dict = skeleton.toGenericDict().copy();
      if (dict.contains(kIdsKey)) {
        const c10::IValue batch_ids = dict.at(kIdsKey);
        for (const c10::IValue& id : batch_ids.toListRef()) ids.push_back(id);
        static_cast<void>(dict.erase(kIdsKey));
        with_ids = true;
      }
      for (const auto& [key, tensor] : whole) static_cast<void>(dict.erase(key));
      skeleton = dict;
    }
    skeletons.push_back(skeleton);
    std::size_t i = 0;
    for_each_tensor(batch.skeleton, [&](const at::Tensor& t) {
      locations[t.unsafeGetTensorImpl()] = Location{&batch.file, batch.tensor_offsets.at(i++)};
    });
  }
  const CollationPlan plan = plan_collation(skeletons, options);
  for (const auto& [key, tensor] : whole) plan.structure.toGenericDict().insert(key, compact_cpu(tensor));
  if (with_ids) plan.structure.toGenericDict().insert(kIdsKey, ids);
  std::map<const c10::StorageImpl*, const CollatedTensor*> tensor_of_storage;
  for (const CollatedTensor& tensor : plan.tensors) tensor_of_storage[tensor.placeholder.storage().unsafeGetStorageImpl()] = &tensor;

  FileRanges reader;
  if (format == PredictionFormat::pt) {
    const FileSum written = write_torch_file(
        plan.structure, path, save_options, [&](TorchArchiveWriter& archive, const std::string& record, const c10::Storage& storage) {
          const auto found = tensor_of_storage.find(storage.unsafeGetStorageImpl());
          if (found == tensor_of_storage.end()) {  // one of `whole`, in memory
            archive.write_record(record, storage.data(), storage.nbytes());
            return;
          }
          archive.begin_record(record, storage.nbytes());
          TensorStreamer(archive, reader, *found->second, locations).stream();
          archive.end_record();
        });
    if (sum) *sum = written;
    return plan.structure;
  }
  std::vector<SafetensorsTensor> named;
  std::vector<const CollatedTensor*> collated;  // null for one of `whole`
  std::vector<at::Tensor> tensors;
  for_each_named_tensor(plan.structure, [&](const std::string& name, const at::Tensor& t) {
    named.push_back({name, t.scalar_type(), t.sizes().vec()});
    const auto found = tensor_of_storage.find(t.storage().unsafeGetStorageImpl());
    collated.push_back(found == tensor_of_storage.end() ? nullptr : found->second);
    tensors.push_back(t);
  });
  std::vector<std::string> texts;
  for (const c10::IValue& id : ids) texts.push_back(id.toStringRef());
  const auto metadata = write_ids_sidecar(path, with_ids ? &texts : nullptr, save_options);
  write_safetensors(named, metadata, path, save_options, [&](std::size_t i, ByteSink& out) {
    if (collated[i])
      TensorStreamer(out, reader, *collated[i], locations).stream();
    else
      out.append(tensors[i].data_ptr(), tensors[i].nbytes());
  });
  return plan.structure;
}

}  // namespace minitrain
