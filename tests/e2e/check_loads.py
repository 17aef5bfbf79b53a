"""Loads every .pt file under the given folders the ways Python users do:
torch.load as it is (weights_only=True by default from torch 2.6), with
weights_only=True said outright, and, from torch 2.1 on, with mmap=True too;
every way must give the same values.

usage: check_loads.py DIR [DIR...]
Exits 0 and prints what it loaded, 1 with the first file that fails."""
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from compare_predictions import same  # noqa: E402  (values equal, dtypes too, through dicts and lists)

MAJOR, MINOR = (int(part) for part in torch.__version__.split(".")[:2])
HAS_MMAP = (MAJOR, MINOR) >= (2, 1)


def main():
    files = sorted(p for d in sys.argv[1:] for p in pathlib.Path(d).rglob("*.pt"))
    if not files:
        print(f"check_loads: FAILED: no .pt files under {sys.argv[1:]}", file=sys.stderr)
        return 1
    ways = ["weights_only=True"] + (["mmap=True"] if HAS_MMAP else [])
    for path in files:
        try:
            plain = torch.load(path)
            if not same(plain, torch.load(path, weights_only=True)):
                raise ValueError("weights_only=True gives other values")
            if HAS_MMAP and not same(plain, torch.load(path, weights_only=True, mmap=True)):
                raise ValueError("mmap=True gives other values")
        except Exception as e:  # every failure names its file
            print(f"check_loads: FAILED: {path}: {e}", file=sys.stderr)
            return 1
    print(f"check_loads: OK: {len(files)} files with torch {torch.__version__}, {' and '.join(ways)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
