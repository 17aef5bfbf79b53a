#include <ATen/ATen.h>

#include "minitrain/io/collate.hpp"
#include "minitrain/base/error.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;

namespace {
c10::impl::GenericDict dict(std::initializer_list<std::pair<std::string, c10::IValue>> items) {
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [k, v] : items) d.insert(k, v);
  return d;
}
at::Tensor get(const c10::IValue& collated, const std::string& key) { return collated.toGenericDict().at(key).toTensor(); }
}  // namespace

TEST_CASE("tensors concatenate along the batch dim") {
  const auto out = batch_collator({at::ones({2, 3}), at::zeros({1, 3})}).toTensor();
  CHECK(out.sizes() == at::IntArrayRef({3, 3}));
  CHECK(out.slice(0, 0, 2).eq(1).all().item<bool>());
  CHECK(out[2].eq(0).all().item<bool>());
}

TEST_CASE("differing sequence lengths are right-padded with zeros") {
  const at::Tensor a = at::arange(1, 7, at::kFloat).reshape({2, 3});   // [2, 3]
  const at::Tensor b = at::arange(1, 6, at::kFloat).reshape({1, 5});   // [1, 5]
  const auto out = batch_collator({a, b}).toTensor();
  REQUIRE(out.sizes() == at::IntArrayRef({3, 5}));
  CHECK(at::equal(out.slice(0, 0, 2).slice(1, 0, 3), a));
  CHECK(out.slice(0, 0, 2).slice(1, 3, 5).eq(0).all().item<bool>());
  CHECK(at::equal(out[2], b[0]));
  SUBCASE("3-D, integer and bool tensors keep their dtype") {
    const auto logits = batch_collator({at::ones({2, 4, 7}), at::ones({3, 6, 7})}).toTensor();
    CHECK(logits.sizes() == at::IntArrayRef({5, 6, 7}));
    CHECK(logits.sum().item<double>() == doctest::Approx(2 * 4 * 7 + 3 * 6 * 7));
    const auto ids = batch_collator({at::ones({1, 2}, at::kLong), at::ones({1, 4}, at::kLong)}).toTensor();
    CHECK((ids.scalar_type() == at::kLong));
    CHECK(ids.sum().item<std::int64_t>() == 6);
    const auto mask = batch_collator({at::ones({1, 2}, at::kBool), at::ones({1, 3}, at::kBool)}).toTensor();
    CHECK((mask.scalar_type() == at::kBool));
    CHECK(mask.sum().item<std::int64_t>() == 5);
  }
}

TEST_CASE("0-d tensors become [1] and 1-D tensors concatenate directly") {
  CHECK(at::equal(batch_collator({at::scalar_tensor(1.0), at::scalar_tensor(2.0)}).toTensor(), at::tensor({1.0f, 2.0f})));
  CHECK(at::equal(batch_collator({at::tensor({1, 2}), at::tensor({3})}).toTensor(), at::tensor({1, 2, 3})));
}

TEST_CASE("dicts, lists and tuples are collated recursively") {
  const auto first = dict({{"x", at::zeros({1, 2})}, {"nested", dict({{"y", at::ones({1})}})},
                           {"pair", c10::ivalue::Tuple::create({at::zeros({1, 1}), at::ones({1, 1})})}});
  const auto second = dict({{"x", at::ones({2, 2})}, {"nested", dict({{"y", at::zeros({2})}})},
                            {"pair", c10::ivalue::Tuple::create({at::ones({1, 1}), at::zeros({1, 1})})}});
  const auto out = batch_collator({first, second});
  CHECK(get(out, "x").sizes() == at::IntArrayRef({3, 2}));
  CHECK(at::equal(out.toGenericDict().at("nested").toGenericDict().at("y").toTensor(), at::tensor({1.0f, 0.0f, 0.0f})));
  const auto pair = out.toGenericDict().at("pair");
  REQUIRE(pair.isTuple());
  CHECK(at::equal(pair.toTupleRef().elements()[0].toTensor(), at::tensor({0.0f, 1.0f}).reshape({2, 1})));

  c10::impl::GenericList l1(c10::AnyType::get()), l2(c10::AnyType::get());
  l1.push_back(at::zeros({1, 3}));
  l2.push_back(at::ones({1, 3}));
  const auto list = batch_collator({l1, l2});
  REQUIRE(list.isList());
  CHECK(list.toList().get(0).toTensor().sizes() == at::IntArrayRef({2, 3}));
}

TEST_CASE("None batches are skipped; all None gives None") {
  const auto out = batch_collator({c10::IValue(), at::ones({1, 2}), c10::IValue(), at::zeros({1, 2})}).toTensor();
  CHECK(out.sizes() == at::IntArrayRef({2, 2}));
  CHECK(batch_collator({c10::IValue(), c10::IValue()}).isNone());
}

TEST_CASE("per-key batch and sequence dims apply to that key only") {
  CollateOptions options;
  options.batch_dim_key_defaults = {{"token_logits", 1}};
  options.seq_dim_key_defaults = {{"token_logits", 0}};
  // Megatron layout for token_logits: [S, B, V].
  const auto a = dict({{"token_logits", at::ones({4, 2, 5})}, {"embeddings", at::ones({2, 8})}});
  const auto b = dict({{"token_logits", at::ones({6, 3, 5})}, {"embeddings", at::ones({3, 8})}});
  const auto out = batch_collator({a, b}, options);
  CHECK(get(out, "token_logits").sizes() == at::IntArrayRef({6, 5, 5}));
  CHECK(get(out, "token_logits").slice(1, 0, 2).slice(0, 4, 6).eq(0).all().item<bool>());
  CHECK(get(out, "embeddings").sizes() == at::IntArrayRef({5, 8}));
}

TEST_CASE("bad input is an Error that says what is wrong") {
  CHECK_THROWS_WITH_AS(batch_collator({}), doctest::Contains("there are no batches"), Error);
  CHECK_THROWS_WITH_AS(batch_collator({dict({{"a", at::ones({1})}}), dict({{"b", at::ones({1})}})}),
                       doctest::Contains("key 'a' is in batch 0 but not in batch 1"), Error);
  CHECK_THROWS_WITH_AS(batch_collator({at::ones({1, 2}), dict({{"a", at::ones({1})}})}), doctest::Contains("batch 1"), Error);
  CHECK_THROWS_WITH_AS(batch_collator({c10::IValue(std::string("text"))}), doctest::Contains("not a tensor, dict"), Error);
  CHECK_THROWS_WITH_AS(batch_collator({at::ones({1, 2, 3}), at::ones({1, 2, 4})}), doctest::Contains("cannot collate"), Error);
}
