#!/usr/bin/env python3
"""Checks a run's .safetensors prediction files against the same job's .pt
files, tensor for tensor and ID for ID. Each file is read with a small reader
of the published format (8-byte little-endian header length, JSON header,
contiguous data), and with Hugging Face's safetensors package where the
platform has it: load_file, and safe_open reading one key lazily and a slice
of it. The manifest must list each file's IDs sidecar with its size and CRC-32.

usage: check_safetensors.py SAFETENSORS_DIR PT_DIR
Exits 0 when every check passes, 1 with the first failure otherwise."""
import glob
import json
import os
import struct
import sys
import zlib

import torch

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}


def fail(message):
    print(f"check_safetensors: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def read_spec(path):
    """The tensors and metadata of a safetensors file, by the published format alone."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    if (8 + n) % 8:
        fail(f"{path}: header not padded to a multiple of 8 ({n} bytes)")
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(v, str) for v in metadata.values()):
        fail(f"{path}: __metadata__ holds a value that is not a string: {metadata}")
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    if spans[0][0] != 0 or any(a[1] != b[0] for a, b in zip(spans, spans[1:])) or spans[-1][1] != len(raw) - 8 - n:
        fail(f"{path}: data offsets are not sorted and contiguous: {spans}")
    tensors = {}
    for name, v in header.items():
        begin, end = v["data_offsets"]
        data = bytearray(raw[8 + n + begin:8 + n + end])
        tensors[name] = torch.frombuffer(data, dtype=DTYPES[v["dtype"]]).view(v["shape"]) if data else \
            torch.empty(v["shape"], dtype=DTYPES[v["dtype"]])
    return tensors, metadata


def flat(value, prefix=""):
    """A .pt file's nested prediction, named as a safetensors file names it."""
    if isinstance(value, torch.Tensor):
        return {prefix: value}
    items = value.items() if isinstance(value, dict) else enumerate(value)
    out = {}
    for key, item in items:
        out.update(flat(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def main(st_dir, pt_dir):
    try:
        from safetensors import safe_open
        from safetensors.torch import load_file
    except ImportError:
        safe_open = load_file = None
    manifest = json.load(open(os.path.join(st_dir, "manifest.json")))
    listed = {f["path"]: f for f in manifest["files"]}
    pt_files = sorted(glob.glob(os.path.join(pt_dir, "**", "predictions__*.pt"), recursive=True))
    if not pt_files:
        fail(f"no .pt files in {pt_dir}")
    for pt_path in pt_files:
        relative = os.path.relpath(pt_path, pt_dir)[:-len(".pt")]
        path = os.path.join(st_dir, relative + ".safetensors")
        expected = torch.load(pt_path)
        ids = expected.pop("ids")
        expected = flat(expected)
        tensors, metadata = read_spec(path)
        if sorted(tensors) != sorted(expected):
            fail(f"{path}: keys {sorted(tensors)}, the .pt file has {sorted(expected)}")
        for key, value in expected.items():
            if tensors[key].dtype != value.dtype or not torch.equal(tensors[key], value):
                fail(f"{path}: '{key}' differs from the .pt file's")
        sidecar = os.path.join(os.path.dirname(path), metadata.get("ids_file", "?"))
        if metadata.get("ids_file") != os.path.basename(relative) + ".ids.json" or json.load(open(sidecar)) != ids:
            fail(f"{path}: the IDs in {sidecar} are not the .pt file's")
        entry = listed.get(relative + ".safetensors")
        raw = open(sidecar, "rb").read()
        if not entry or entry["ids_file"] != {"path": relative + ".ids.json", "bytes": len(raw),
                                              "crc32": f"{zlib.crc32(raw):08x}"}:
            fail(f"manifest.json does not list {relative}.safetensors with its IDs sidecar: {entry}")
        if load_file:
            loaded = load_file(path)
            if any(not torch.equal(loaded[k], v) for k, v in expected.items()):
                fail(f"{path}: safetensors.torch.load_file reads other values")
            with safe_open(path, framework="pt") as f:
                key = max(f.keys(), key=lambda k: expected[k].dim())
                if not torch.equal(f.get_slice(key)[0:1], expected[key][0:1]):
                    fail(f"{path}: safe_open's lazy slice of '{key}' differs")
    reader = "the published format and safetensors " + __import__("safetensors").__version__ if load_file else \
        "the published format (no safetensors package here)"
    print(f"check_safetensors: OK: {len(pt_files)} files equal to the .pt ones, read with {reader}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
