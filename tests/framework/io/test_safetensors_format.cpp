// The safetensors layout: its header read back by a reader of the published
// format written in Python, and by Hugging Face's own package where there is one.
#include <ATen/ATen.h>

#include <fstream>

#include "minitrain/base/error.hpp"
#include "minitrain/io/safetensors_format.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::run_python;
using minitrain::testing::TempDir;

TEST_CASE("a safetensors header: widest dtypes first, contiguous offsets, padded to 8, string metadata") {
  TempDir dir;
  const std::vector<std::pair<std::string, at::Tensor>> named{
      {"mask", at::tensor({1, 0, 1}, at::kLong).to(at::kBool)},
      {"embeddings", at::arange(6, at::kFloat).view({2, 3})},
      {"batch_indices", at::tensor(std::vector<std::int64_t>{4, 5})},
      {"half", at::ones({2, 2}, at::kHalf)},
  };
  std::vector<SafetensorsTensor> tensors;
  for (const auto& [name, t] : named) tensors.push_back({name, t.scalar_type(), t.sizes().vec()});
  const SafetensorsLayout layout = plan_safetensors(tensors, {{"format", "pt"}});
  CHECK(layout.header.size() % 8 == 0);
  CHECK(layout.order == std::vector<std::size_t>{2, 1, 3, 0});  // I64, F32, F16, BOOL
  CHECK(layout.data_bytes == 16 + 24 + 8 + 3);
  {
    std::ofstream out(dir / "t.safetensors", std::ios::binary);
    out << layout.header;
    for (const std::size_t i : layout.order) {
      const at::Tensor& t = named[i].second;
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    }
  }
  // The published format, read with nothing but the standard library and torch's frombuffer.
  REQUIRE(run_python(dir.path(), R"(import json, struct, torch
raw = open('t.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
assert (8 + n) % 8 == 0, n
header = json.loads(raw[8:8 + n])
assert header.pop('__metadata__') == {'format': 'pt'}
spans = sorted(v['data_offsets'] for v in header.values())
assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in zip(spans, spans[1:])) and spans[-1][1] == len(raw) - 8 - n, spans
types = {'F32': torch.float32, 'F16': torch.float16, 'I64': torch.int64, 'BOOL': torch.bool}
def tensor(name):
    v = header[name]; b, e = v['data_offsets']
    return torch.frombuffer(bytearray(raw[8 + n + b: 8 + n + e]), dtype=types[v['dtype']]).view(v['shape'])
assert torch.equal(tensor('embeddings'), torch.arange(6.).view(2, 3))
assert tensor('batch_indices').tolist() == [4, 5]
assert tensor('mask').tolist() == [True, False, True]
try:
    from safetensors.torch import load_file
except ImportError:
    pass
else:
    loaded = load_file('t.safetensors')
    assert torch.equal(loaded['half'], torch.ones(2, 2, dtype=torch.float16))
)") == 0);
}

TEST_CASE("names a safetensors file cannot hold, and dtypes it has no name for, are refused") {
  CHECK_THROWS_WITH_AS(plan_safetensors({{"a", at::kFloat, {1}}, {"a", at::kFloat, {1}}}, {}), doctest::Contains("'a' is used twice"),
                       Error);
  CHECK_THROWS_WITH_AS(plan_safetensors({{"__metadata__", at::kFloat, {1}}}, {}), doctest::Contains("is reserved"), Error);
  CHECK_THROWS_WITH_AS(plan_safetensors({{"c", at::kComplexFloat, {1}}}, {}), doctest::Contains("safetensors has no dtype for"),
                       Error);
}
