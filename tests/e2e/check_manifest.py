#!/usr/bin/env python3
"""Checks a predict run's manifest.json against the files as Python reads them:
every prediction file in the folder is listed, and no other; each listed
file has the bytes and CRC-32 (zlib.crc32) the manifest says, the keys with
the shapes and dtypes torch.load gives, the rows and dataset indices of its
batch_indices; the ranks' batch files cover the dataset once; the weights
file's SHA-256 is the one named.

usage: check_manifest.py DIR WORLD_SIZE [WEIGHTS_FILE]
Exits 0 and prints what it checked, 1 with the first mismatch."""
import hashlib
import json
import pathlib
import re
import sys
import zlib

import torch


def fail(message):
    print(f"check_manifest: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def expand(runs):
    return [start + k * step for start, step, count in runs for k in range(count)]


def flatten(value, key=""):
    """(key, shape, dtype) of every tensor, and of the ids list, as the manifest names them."""
    join = (lambda part: f"{key}.{part}" if key else str(part))
    if isinstance(value, torch.Tensor):
        yield key, list(value.shape), str(value.dtype).replace("torch.", "")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, join(k))
    elif isinstance(value, list) and value and isinstance(value[0], str):
        yield key, [len(value)], "str"
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from flatten(v, join(i))


def main():
    folder, world_size = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest["format"] != "minitrain-predictions" or manifest["format_version"] != 1 or not manifest["complete"]:
        fail(f"header {manifest['format']} {manifest['format_version']} complete={manifest['complete']}")
    if manifest["world_size"] != world_size:
        fail(f"world_size {manifest['world_size']}, expected {world_size}")
    if not re.fullmatch(r"[0-9a-f]{64}", manifest["job_sha256"]):
        fail(f"job_sha256 {manifest['job_sha256']!r}")
    if len(sys.argv) > 3:
        weights = pathlib.Path(sys.argv[3])
        if manifest["model"]["weights_sha256"] != hashlib.sha256(weights.read_bytes()).hexdigest():
            fail(f"weights_sha256 is not the SHA-256 of {weights}")
    present = sorted(str(p.relative_to(folder)) for p in folder.rglob("predictions__rank_*.pt"))
    listed = sorted(f["path"] for f in manifest["files"])
    if present != listed:
        fail(f"files present {present}, listed {listed}")
    covered = []
    for entry in manifest["files"]:
        path = folder / entry["path"]
        data = path.read_bytes()
        if len(data) != entry["bytes"] or f"{zlib.crc32(data):08x}" != entry["crc32"]:
            fail(f"{path}: {len(data)} bytes, CRC-32 {zlib.crc32(data):08x}; manifest says {entry['bytes']}, {entry['crc32']}")
        contents = torch.load(path)
        keys = {k: {"shape": s, "dtype": d} for k, s, d in flatten(contents)}
        if keys != entry["keys"]:
            fail(f"{path}: keys {keys}, manifest says {entry['keys']}")
        indices = contents["batch_indices"].tolist()
        if expand(entry["indices"]) != indices or entry["rows"] != len(indices):
            fail(f"{path}: indices {entry['indices']} / rows {entry['rows']}, the file's batch_indices {indices}")
        if entry["batches"] != contents["batch_idx"].tolist():
            fail(f"{path}: batches {entry['batches']}, the file's batch_idx {contents['batch_idx'].tolist()}")
        if entry["kind"] == "batch":
            covered += indices
    if manifest["samples"] != len(covered) or sorted(covered) != list(range(len(covered))):
        fail(f"the batch files do not cover samples 0..{manifest['samples'] - 1} once")
    print(f"check_manifest: OK: {len(listed)} files of {world_size} rank(s), {manifest['samples']} samples")


if __name__ == "__main__":
    main()
