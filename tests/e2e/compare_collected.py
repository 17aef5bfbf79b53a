"""Checks that `minitrain collect` over several ranks' files holds what one
rank's epoch file holds: the same samples in dataset order, equal embeddings
and, on every real token, equal logits (padding inside a batch depends on
which samples share it, so padded positions are not compared).

usage: compare_collected.py COLLECTED ONE_RANK_EPOCH_FILE
"""
import sys

import torch

collected, single = (torch.load(path) for path in sys.argv[1:3])
n = single["batch_indices"].numel()
assert torch.equal(collected["batch_indices"], torch.arange(n)), collected["batch_indices"]
assert torch.equal(single["batch_indices"], torch.arange(n)), single["batch_indices"]
assert sorted(collected) == sorted(k for k in single if k != "batch_idx"), (sorted(collected), sorted(single))
assert collected["ids"] == single["ids"] and len(set(single["ids"])) == n, (collected["ids"], single["ids"])
assert torch.allclose(collected["embeddings"], single["embeddings"], atol=1e-5)
assert torch.equal(collected["input_ids"], single["input_ids"])
real = single["input_ids"] != 0
assert torch.allclose(collected["token_logits"][real], single["token_logits"][real], atol=1e-4)
print(f"compare_collected: OK: {n} samples")
