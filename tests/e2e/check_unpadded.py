#!/usr/bin/env python3
"""Checks unpadded outputs against a padded run of the same job: in every
file of UNPADDED_DIR (batch and epoch files, .pt) and in collect's output,
each row's tokens flat[offsets[i]:offsets[i + 1]] are the padded run's first
attention-mask-length positions of the same sample, and nothing else is there.

usage: check_unpadded.py PADDED_COLLECTED UNPADDED_DIR UNPADDED_COLLECTED KEY...
Exits 0 when every check passes, 1 with the first failure otherwise."""
import glob
import os
import sys

import torch


def fail(message):
    print(f"check_unpadded: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check(path, d, padded, keys):
    """Every row of file `d` against the padded collected output, by dataset index."""
    lengths = (padded["input_ids"] != 0).sum(1)
    for key in keys:
        flat, offsets = d[key], d[key + "_offsets"]
        rows = d["batch_indices"].numel()
        if offsets.dtype != torch.int64 or offsets.shape != (rows + 1,) or offsets[0] != 0 or offsets[-1] != flat.shape[0]:
            fail(f"{path}: {key}_offsets {offsets.dtype} {tuple(offsets.shape)} is not [rows + 1] offsets into {key}")
        for row, index in enumerate(d["batch_indices"].tolist()):
            n = int(lengths[index])
            got = flat[offsets[row]:offsets[row + 1]]
            if got.shape[0] != n or not torch.allclose(got.double(), padded[key][index, :n].double(), atol=1e-5):
                fail(f"{path}: {key} of sample {index} is not the padded run's first {n} tokens")
    return int(sum(d[keys[0]].shape[0] for _ in [0]))


def main(padded_path, unpadded_dir, collected_path, *keys):
    padded = torch.load(padded_path)
    files = sorted(glob.glob(os.path.join(unpadded_dir, "**", "predictions__*.pt"), recursive=True))
    for path in files:
        check(path, torch.load(path), padded, keys)
    collected = torch.load(collected_path)
    if not torch.equal(collected["batch_indices"], torch.arange(padded["batch_indices"].numel())):
        fail("collect's rows are not in dataset order")
    tokens = check(collected_path, collected, padded, keys)
    padded_tokens = padded[keys[0]].shape[0] * padded[keys[0]].shape[1]
    print(f"check_unpadded: OK: {len(files)} files and collect's output; {tokens} tokens stored where padding "
          f"would store {padded_tokens}")


if __name__ == "__main__":
    main(*sys.argv[1:])
