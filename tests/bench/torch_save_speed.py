#!/usr/bin/env python3
"""Times Python's torch.save of the same prediction dict bench_writer writes.
Usage: torch_save_speed.py MIB REPEATS DIR  ->  prints "median_seconds S"."""
import os
import statistics
import sys
import time

import torch

mib, repeats, directory = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
floats = mib * (1 << 20) // 4
prediction = {
    "token_logits": torch.rand(floats * 3 // 4),
    "embeddings": torch.rand(floats - floats * 3 // 4),
    "batch_indices": torch.arange(64),
}
path = os.path.join(directory, "python_torch_save.pt")
times = []
for _ in range(repeats):
    start = time.perf_counter()
    torch.save(prediction, path)
    times.append(time.perf_counter() - start)
    os.remove(path)
print(f"median_seconds {statistics.median(times)}")
