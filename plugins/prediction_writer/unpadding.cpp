#include "unpadding.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "minitrain/base/error.hpp"
#include "minitrain/io/unpadded.hpp"

namespace minitrain {

const at::Tensor& attention_mask_of(const Batch& batch) {
  if (batch.fields.count("attention_mask")) return batch.fields.at("attention_mask");
  std::vector<std::string> fields;
  for (const auto& [name, tensor] : batch.fields) fields.push_back(name);
  throw Error(fmt::format("prediction_writer: unpadded_keys takes each row's length from the batch's attention_mask, and "
                          "this data has none (its fields: {})\n  fix: use a dataset that pads sequences (fasta), or "
                          "leave unpadded_keys unset",
                          fields.empty() ? "none" : fmt::format("{}", fmt::join(fields, ", "))));
}

void unpad_outputs(c10::impl::GenericDict& out, const std::vector<std::string>& keys, const Batch& batch) {
  if (keys.empty()) return;
  const at::Tensor& mask = attention_mask_of(batch);
  const std::vector<std::int64_t> lengths = row_lengths(mask);
  for (const std::string& key : keys) {
    const auto found = out.find(key);
    if (found == out.end() || !found->value().isTensor())
      throw Error(fmt::format("prediction_writer: unpadded_keys names '{}', which {}", key,
                              found == out.end() ? "is not among the outputs written" : "is not a tensor"));
    if (out.contains(offsets_key(key)))
      throw Error(fmt::format("prediction_writer: unpadded_keys names '{}', but predict_step also returned '{}', where its "
                              "offsets go\n  fix: rename that output",
                              key, offsets_key(key)));
    out.insert_or_assign(key, unpad_rows(found->value().toTensor(), lengths, mask.size(-1), key));
    out.insert(offsets_key(key), offsets_of(lengths));
  }
}

}  // namespace minitrain
