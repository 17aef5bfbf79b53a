// HDF5 and h5ad exports read back by h5py and anndata (or, where the platform
// has no anndata, h5py by anndata's layout: tests/e2e/h5ad_reader.py): every
// dtype as numpy has it, rows arriving in several blocks, and the AnnData layout.
#include <ATen/ATen.h>

#include "minitrain/base/error.hpp"
#include "minitrain/io/hdf5_export.hpp"
#include "test_support.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;
using minitrain::testing::run_python;
using minitrain::testing::TempDir;

namespace {

// Python's preamble: the tests' h5ad reader (anndata, or h5py by its layout).
const std::string kReadH5ad = "import sys, numpy as np\nsys.path.insert(0, '" MINITRAIN_SOURCE_DIR "/tests/e2e')\nimport h5ad_reader\n";

struct Fixture {
  std::vector<at::Tensor> tensors{at::arange(10, at::kFloat).view({5, 2}).to(at::kHalf),
                                  at::arange(15, at::kFloat).view({5, 3}).to(at::kBFloat16),
                                  at::tensor({1, 0, 1, 1, 0}, at::kLong).to(at::kBool),
                                  at::arange(40, at::kDouble).view({5, 4, 2}),
                                  at::arange(5, at::kLong)};
  ExportPlan plan{{{"half", at::kHalf, {5, 2}},
                   {"nested.bf16", at::kBFloat16, {5, 3}},
                   {"flag", at::kBool, {5}},
                   {"tokens", at::kDouble, {5, 4, 2}},
                   {"batch_indices", at::kLong, {5}}},
                  {"P1", "P2", "Q\xc3\xa9", "P4", "P5"},
                  5};
  // Rows in blocks of two, as collect hands them over.
  RowSource rows = [this](std::size_t i, const std::function<void(const at::Tensor&)>& emit) {
    for (std::int64_t start = 0; start < 5; start += 2) emit(tensors[i].narrow(0, start, std::min<std::int64_t>(2, 5 - start)));
  };
};

}  // namespace

TEST_CASE("an HDF5 export: one dataset per key with numpy's dtypes, and the IDs as UTF-8 strings") {
  TempDir dir;
  Fixture f;
  export_hdf5(f.plan, f.rows, dir / "p.h5");
  REQUIRE(run_python(dir.path(), R"(import h5py, numpy as np
f = h5py.File('p.h5', 'r')
assert sorted(f) == ['batch_indices', 'flag', 'half', 'ids', 'nested.bf16', 'tokens'], sorted(f)
assert f['half'].dtype == np.float16 and (f['half'][:] == np.arange(10).reshape(5, 2)).all()
assert f['nested.bf16'].dtype == np.float32 and (f['nested.bf16'][:] == np.arange(15).reshape(5, 3)).all()
assert f['flag'].dtype == np.bool_ and f['flag'][:].tolist() == [True, False, True, True, False]
assert (f['tokens'][:] == np.arange(40).reshape(5, 4, 2)).all()
assert [s.decode() for s in f['ids'][:]] == ['P1', 'P2', 'Q\u00e9', 'P4', 'P5']
assert f.attrs['format'] == 'minitrain-predictions'
)") == 0);
}

TEST_CASE("an h5ad export: .X, .obsm, .obs and obs_names as anndata reads them") {
  TempDir dir;
  Fixture f;
  export_h5ad(f.plan, f.rows, dir / "p.h5ad", "nested.bf16");
  REQUIRE(run_python(dir.path(), kReadH5ad + R"(
reader, X, names, obs, obsm, uns = h5ad_reader.read('p.h5ad')
assert (X == np.arange(15).reshape(5, 3)).all() and X.dtype == np.float32 and X.shape == (5, 3)
assert names == ['P1', 'P2', 'Q\u00e9', 'P4', 'P5'], names
assert list(obs) == ['flag', 'batch_indices'] and obs['flag'].tolist() == [True, False, True, True, False]
assert sorted(obsm) == ['half', 'tokens'] and obsm['tokens'].shape == (5, 4, 2)
assert uns['minitrain_X'] == 'nested.bf16'
)") == 0);
  // Without --x-key, .X is the first floating-point output with two dims.
  export_h5ad(f.plan, f.rows, dir / "d.h5ad", std::nullopt);
  REQUIRE(run_python(dir.path(), kReadH5ad + R"(
reader, X, names, obs, obsm, uns = h5ad_reader.read('d.h5ad')
assert uns['minitrain_X'] == 'half' and sorted(obsm) == ['nested.bf16', 'tokens'], (uns, sorted(obsm))
)") == 0);
  // Per-token outputs (another first dim than the samples') and their offsets go to .uns.
  f.tensors.push_back(at::arange(7, at::kFloat));
  f.tensors.push_back(at::tensor({0, 1, 3, 3, 6, 7}, at::kLong));
  f.plan.tensors.push_back({"tok", at::kFloat, {7}});
  f.plan.tensors.push_back({"tok_offsets", at::kLong, {6}});
  f.rows = [&f](std::size_t i, const std::function<void(const at::Tensor&)>& emit) { emit(f.tensors[i]); };
  export_h5ad(f.plan, f.rows, dir / "u.h5ad", std::nullopt);
  REQUIRE(run_python(dir.path(), kReadH5ad + R"(
reader, X, names, obs, obsm, uns = h5ad_reader.read('u.h5ad')
assert uns['tok'].tolist() == list(range(7)) and uns['tok_offsets'].tolist() == [0, 1, 3, 3, 6, 7], uns
assert 'tok' not in obs and 'tok_offsets' not in obs
)") == 0);
  CHECK_THROWS_WITH_AS(export_h5ad(f.plan, f.rows, dir / "e.h5ad", "tokens"),
                       doctest::Contains("--x-key tokens: .X needs an output with two dims [samples, features]; these have "
                                         "two: half, nested.bf16"),
                       DataError);
  CHECK_FALSE(std::filesystem::exists(dir / "e.h5ad"));
}
