#!/usr/bin/env bash
# Peak memory of `minitrain collect` against the size of what it merges:
# 2 ranks' batch files (written by Python's torch.save, as a writer would),
# KEYS tensors of ROWS x 256 float32 each, shuffled across the files.
# FORMAT is collect's --format: pt (default), safetensors, hdf5 or h5ad.
#   bash tests/bench/bench_collect.sh [ROWS] [KEYS] [FORMAT]
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${1:-100000}
keys=${2:-4}
format=${3:-pt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work/in" "$rows" "$keys" <<'PY'
import os, sys, torch
out, rows, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
order = torch.randperm(rows, generator=torch.Generator().manual_seed(0))
batch = 4096
for rank in range(2):
    mine = order[rank::2]
    for b, start in enumerate(range(0, mine.numel(), batch)):
        idx = mine[start:start + batch]
        d = {f"key_{k}": idx.float().unsqueeze(1).expand(-1, 256) + k for k in range(keys)}
        d["batch_indices"], d["batch_idx"] = idx.clone(), torch.tensor([b])
        torch.save({k: v.contiguous() for k, v in d.items()}, f"{out}/predictions__rank_{rank}__batch_{b}.pt")
PY
input_mb=$(du -sm "$work/in" | cut -f1)
/usr/bin/time -f "%M" -o "$work/peak_kb" build/bin/minitrain collect --input "$work/in" --output "$work/all.out" --format "$format" 2>/dev/null
/usr/bin/time -f "%M" -o "$work/base_kb" build/bin/minitrain --version >/dev/null
/usr/bin/python3 -c "
import sys, torch
sys.path.insert(0, 'tests/e2e')
if '$format' == 'pt':
    a = torch.load('$work/all.out')
elif '$format' == 'safetensors':
    from check_safetensors import read_spec
    a = read_spec('$work/all.out')[0]
else:
    import h5py
    f = h5py.File('$work/all.out', 'r')
    group = f if '$format' == 'hdf5' else f['obsm']
    a = {k: torch.from_numpy(group[k][:]) for k in group}
    a['batch_indices'] = torch.from_numpy((f if '$format' == 'hdf5' else f['obs'])['batch_indices'][:])
    if '$format' == 'h5ad':
        a['key_0'] = torch.from_numpy(f['X'][:])
assert torch.equal(a['batch_indices'], torch.arange($rows))
assert all(torch.equal(a[f'key_{k}'][:, 0], torch.arange($rows).float() + k) for k in range($keys))"
peak=$(( $(cat "$work/peak_kb") / 1024 )); base=$(( $(cat "$work/base_kb") / 1024 ))
key_mb=$(( rows * 256 * 4 / 1048576 ))
echo "input: $input_mb MiB in $(ls "$work/in" | wc -l) files, $keys keys of $key_mb MiB each"
echo "peak RSS of collect --format $format: $peak MiB (a process that only prints --version: $base MiB)"
