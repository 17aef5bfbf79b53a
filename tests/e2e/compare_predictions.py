#!/usr/bin/env python3
"""Asserts that two prediction directories hold the same .pt files (names,
subdirectories included) with equal contents under torch.load, and, where
both have a manifest.json, that the manifests list the same files alike.
Exits 0 when they match, 1 with the first difference otherwise."""
import json
import os
import sys

import torch


def pt_files(root):
    found = set()
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".pt"):
                found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def same(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main():
    left, right = sys.argv[1], sys.argv[2]
    names = pt_files(left)
    if names != pt_files(right):
        print(f"compare_predictions: FAILED: files differ: {sorted(names ^ pt_files(right))}", file=sys.stderr)
        sys.exit(1)
    for name in sorted(names):
        if not same(torch.load(os.path.join(left, name)), torch.load(os.path.join(right, name))):
            print(f"compare_predictions: FAILED: {name} differs", file=sys.stderr)
            sys.exit(1)
    manifests = [os.path.join(d, "manifest.json") for d in (left, right)]
    if all(os.path.exists(m) for m in manifests):
        files = [json.load(open(m))["files"] for m in manifests]
        if files[0] != files[1]:
            print("compare_predictions: FAILED: the manifests list the files differently", file=sys.stderr)
            sys.exit(1)
    print(f"compare_predictions: OK: {len(names)} files equal")


if __name__ == "__main__":
    main()
