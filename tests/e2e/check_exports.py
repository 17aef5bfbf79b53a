#!/usr/bin/env python3
"""Checks collect's exports against its .pt output, each read by the package
its users read it with: safetensors (the published format, or Hugging Face's
package where the platform has it) with the IDs sidecar, HDF5 with h5py, and
h5ad with anndata where the platform has it, else with h5py by anndata's
layout (.X the embeddings, the rest in .obsm and .obs, the IDs as obs_names).

usage: check_exports.py COLLECTED_PT STEM   (reads STEM.safetensors, STEM.h5, STEM.h5ad)
Exits 0 when every check passes, 1 with the first failure otherwise."""
import json
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from check_safetensors import read_spec  # noqa: E402
import h5ad_reader  # noqa: E402


def fail(message):
    print(f"check_exports: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def same(name, got, want):
    got = torch.as_tensor(np.asarray(got))
    if got.dtype != want.dtype or got.shape != want.shape or not torch.equal(got, want):
        fail(f"{name}: {got.dtype} {tuple(got.shape)} differs from the .pt output's {want.dtype} {tuple(want.shape)}")


def main(pt_path, stem):
    expected = torch.load(pt_path)
    ids = expected.pop("ids")
    tensors = {k: v for k, v in expected.items()}

    st, metadata = read_spec(stem + ".safetensors")
    if sorted(st) != sorted(tensors):
        fail(f"safetensors keys {sorted(st)}, expected {sorted(tensors)}")
    for key, value in tensors.items():
        same(f"safetensors {key}", st[key], value)
    if json.load(open(os.path.join(os.path.dirname(stem), metadata["ids_file"]))) != ids:
        fail("the safetensors IDs sidecar differs")

    with h5py.File(stem + ".h5", "r") as f:
        if sorted(f) != sorted(list(tensors) + ["ids"]):
            fail(f"HDF5 datasets {sorted(f)}")
        for key, value in tensors.items():
            same(f"HDF5 {key}", f[key][:], value)
        if [s.decode() for s in f["ids"][:]] != ids:
            fail("the HDF5 ids differ")
        lazy = f["token_logits"][3:5, :10]  # one slice read, not the dataset
        same("HDF5 token_logits[3:5, :10]", lazy, tensors["token_logits"][3:5, :10])

    reader, X, obs_names, obs, obsm, uns = h5ad_reader.read(stem + ".h5ad")
    if obs_names != ids:
        fail("h5ad obs_names are not the IDs")
    same("h5ad X", X, tensors["embeddings"])
    for key in ("token_logits", "input_ids"):
        same(f"h5ad obsm[{key}]", obsm[key], tensors[key])
    same("h5ad obs[batch_indices]", obs["batch_indices"], tensors["batch_indices"])
    if uns["minitrain_X"] != "embeddings":
        fail(f"h5ad uns['minitrain_X'] is {uns['minitrain_X']!r}")
    print(f"check_exports: OK: {len(ids)} samples in safetensors, HDF5 and h5ad equal to the .pt output "
          f"(h5ad read with {reader}; h5py {h5py.__version__})")


if __name__ == "__main__":
    main(*sys.argv[1:3])
