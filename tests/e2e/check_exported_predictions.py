"""Checks minitrain's predictions from exported_fixture.py's packages against
the eager Python models' own forward: a dict output under its keys, a tuple
as output_0/output_1, a tensor as prediction; every row, in dataset order.

usage: check_exported_predictions.py FIXTURE_DIR"""
import sys

import torch

fixture = sys.argv[1]
expected = torch.load(f"{fixture}/expected.pt")
wanted = {
    "dict": expected["dict"],
    "tuple": {"output_0": expected["tuple"][0], "output_1": expected["tuple"][1]},
    "tensor": {"prediction": expected["tensor"]},
}
for name, outputs in wanted.items():
    got = torch.load(f"{fixture}/{name}/predictions__rank_0.pt")
    assert sorted(got) == sorted(list(outputs) + ["batch_idx", "batch_indices", "ids"]), (name, sorted(got))
    assert torch.equal(got["batch_indices"], torch.arange(10)), (name, got["batch_indices"])
    for key, value in outputs.items():
        assert got[key].shape == value.shape, (name, key, got[key].shape, value.shape)
        assert torch.allclose(got[key], value, atol=1e-5), (name, key, (got[key] - value).abs().max())
print("check_exported_predictions: OK: dict, tuple, tensor")
