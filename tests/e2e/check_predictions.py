#!/usr/bin/env python3
"""Reads minitrain's prediction files with plain torch.load and checks the
prediction-file contract: BioNeMo's names, a dict of tensors with the expected
keys, shapes and dtypes, batch_indices that cover the dataset exactly once and
point at the right sequences, ids that name each row by its FASTA header's
first word, and epoch files equal to the batch files value for value
(right-padded with zeros along the sequence dim).

Exits 0 when every check passes, 1 with the first failure otherwise."""
import argparse
import os
import re
import sys

import torch

RESIDUES = "ACDEFGHIKLMNPQRSTVWYXBZUO"  # ids 5.. after <pad> <cls> <eos> <unk> <mask>
PAD, CLS, EOS = 0, 1, 2
TENSOR_KEYS = {"embeddings", "token_logits", "input_ids", "batch_idx", "batch_indices"}
KEYS = TENSOR_KEYS | {"ids"}


def fail(message):
    print(f"check_predictions: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def read_fasta(path):
    """The sequences and their IDs (each header's first word)."""
    sequences, ids, current = [], [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                current = []
                sequences.append(current)
                ids.append(line[1:].split()[0])
            else:
                current.append(line.upper().rstrip("*"))
    return ["".join(s) for s in sequences], ids


def token_ids(sequence, max_length):
    residues = sequence[: max_length - 2]
    return [CLS] + [5 + RESIDUES.index(c) for c in residues] + [EOS]


def check_dict(d, path):
    expect(type(d) is dict, f"{path}: torch.load gave {type(d).__name__}, expected dict")
    expect(set(d) == KEYS, f"{path}: keys {sorted(d)}, expected {sorted(KEYS)}")
    for key in TENSOR_KEYS:
        expect(isinstance(d[key], torch.Tensor), f"{path}: {key} is {type(d[key]).__name__}, expected a tensor")
    rows = d["batch_indices"].shape[0]
    expect(type(d["ids"]) is list and len(d["ids"]) == rows and all(type(i) is str for i in d["ids"]),
           f"{path}: ids is not a list of {rows} str")
    expect(d["embeddings"].dtype == torch.float32 and d["embeddings"].dim() == 2, f"{path}: embeddings {d['embeddings'].dtype} {tuple(d['embeddings'].shape)}")
    expect(d["token_logits"].dtype == torch.float32 and d["token_logits"].dim() == 3, f"{path}: token_logits {d['token_logits'].dtype}")
    expect(d["input_ids"].dtype == torch.int64 and d["input_ids"].dim() == 2, f"{path}: input_ids {d['input_ids'].dtype}")
    expect(d["batch_idx"].dtype == torch.int64 and d["batch_idx"].dim() == 1, f"{path}: batch_idx {d['batch_idx'].dtype}")
    expect(d["batch_indices"].dtype == torch.int64 and d["batch_indices"].dim() == 1, f"{path}: batch_indices dtype")
    expect(d["embeddings"].shape[0] == rows and d["token_logits"].shape[0] == rows and d["input_ids"].shape[0] == rows,
           f"{path}: outputs do not all have {rows} rows")
    expect(d["token_logits"].shape[1] == d["input_ids"].shape[1], f"{path}: token_logits and input_ids lengths differ")
    expect(torch.isfinite(d["token_logits"]).all(), f"{path}: non-finite logits")


def check_input_ids(d, sequences, max_length, path, names):
    """Each row's tokens must be the tokenized sequence its batch_indices names, its ID that sequence's."""
    for row, index in enumerate(d["batch_indices"].tolist()):
        expect(d["ids"][row] == names[index], f"{path}: row {row} has ID {d['ids'][row]!r}, expected {names[index]!r}")
        ids = token_ids(sequences[index], max_length)
        got = d["input_ids"][row].tolist()
        expect(got[: len(ids)] == ids, f"{path}: row {row} (dataset index {index}) does not hold that sequence's tokens")
        expect(all(t == PAD for t in got[len(ids):]), f"{path}: row {row} is not padded with {PAD} after its tokens")


def load_batch_files(directory, expected_batches):
    names = sorted(n for n in os.listdir(directory) if re.fullmatch(r"predictions__rank_0__batch_\d+\.pt", n))
    wanted = [f"predictions__rank_0__batch_{b}.pt" for b in range(expected_batches)]
    expect(sorted(names) == sorted(wanted), f"{directory}: batch files {names}, expected {wanted}")
    batches = []
    for b in range(expected_batches):
        path = os.path.join(directory, f"predictions__rank_0__batch_{b}.pt")
        d = torch.load(path)
        check_dict(d, path)
        expect(d["batch_idx"].tolist() == [b], f"{path}: batch_idx {d['batch_idx'].tolist()}, expected [{b}]")
        batches.append(d)
    return batches


def check_coverage(indices, n, where):
    expect(sorted(indices) == list(range(n)), f"{where}: batch_indices do not cover the {n} samples exactly once")


def check_epoch_file(path, batches, sequences, max_length, ids):
    e = torch.load(path)
    check_dict(e, path)
    n = len(sequences)
    expect(e["batch_indices"].shape[0] == n, f"{path}: {e['batch_indices'].shape[0]} rows, expected {n}")
    check_coverage(e["batch_indices"].tolist(), n, path)
    check_input_ids(e, sequences, max_length, path, ids)
    expect(e["ids"] == [i for b in batches for i in b["ids"]], f"{path}: ids are not the batches' ids in turn")
    expect(e["batch_idx"].tolist() == list(range(len(batches))), f"{path}: batch_idx {e['batch_idx'].tolist()}")
    longest = max(b["token_logits"].shape[1] for b in batches)
    expect(e["token_logits"].shape[1] == longest, f"{path}: sequence dim {e['token_logits'].shape[1]}, expected {longest}")
    row = 0
    for b in batches:
        rows, length = b["token_logits"].shape[:2]
        part = slice(row, row + rows)
        expect(torch.equal(e["batch_indices"][part], b["batch_indices"]), f"{path}: batch_indices differ from batch {b['batch_idx'].item()}")
        expect(torch.equal(e["embeddings"][part], b["embeddings"]), f"{path}: embeddings differ from batch {b['batch_idx'].item()}")
        for key in ("token_logits", "input_ids"):
            expect(torch.equal(e[key][part, :length], b[key]), f"{path}: {key} differ from batch {b['batch_idx'].item()}")
            expect(bool((e[key][part, length:] == 0).all()), f"{path}: {key} not zero-padded after position {length}")
        row += rows
    expect(row == n, f"{path}: batch files hold {row} rows, the epoch file {n}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fasta", required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--max-length", type=int, required=True)
    parser.add_argument("--batch-dir", required=True, help="a write_interval: batch output_dir")
    parser.add_argument("--epoch-dir", required=True, help="a write_interval: epoch output_dir")
    parser.add_argument("--both-dir", required=True, help="a write_interval: batch_and_epoch output_dir")
    args = parser.parse_args()

    sequences, ids = read_fasta(args.fasta)
    n = len(sequences)
    num_batches = (n + args.batch_size - 1) // args.batch_size

    batches = load_batch_files(args.batch_dir, num_batches)
    check_coverage([i for b in batches for i in b["batch_indices"].tolist()], n, args.batch_dir)
    for b in batches:
        check_input_ids(b, sequences, args.max_length, args.batch_dir, ids)
        expect(b["embeddings"].shape[0] <= args.batch_size, f"{args.batch_dir}: a batch larger than {args.batch_size}")

    epoch_names = sorted(os.listdir(args.epoch_dir))
    expect(epoch_names == ["manifest.json", "predictions__rank_0.pt"],
           f"{args.epoch_dir}: files {epoch_names}, expected only predictions__rank_0.pt and manifest.json")
    check_epoch_file(os.path.join(args.epoch_dir, "predictions__rank_0.pt"), batches, sequences, args.max_length, ids)

    both = load_batch_files(args.both_dir, num_batches)
    for mine, theirs in zip(both, batches):
        expect(mine["ids"] == theirs["ids"], f"{args.both_dir}: ids of batch {mine['batch_idx'].item()} differ")
        for key in TENSOR_KEYS:
            expect(torch.equal(mine[key], theirs[key]), f"{args.both_dir}: {key} of batch {mine['batch_idx'].item()} differs from {args.batch_dir}")
    check_epoch_file(os.path.join(args.both_dir, "predictions__rank_0.pt"), both, sequences, args.max_length, ids)

    print(f"check_predictions: OK: {num_batches} batch files x2, 2 epoch files, {n} samples each covered once")


if __name__ == "__main__":
    main()
