"""Writes a TorchScript classifier and its data, as a Python user would:
model.pt (torch.jit.save), train.csv, val.tsv and inputs.pt (torch.save of a
one-key dict). The classes follow a fixed rule of the features, so a trained
model can be told from an untrained one.

usage: tabular_fixture.py OUT_DIR
"""
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = torch.nn.BatchNorm1d(4)
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Dropout(0.1))
        self.head = torch.nn.Linear(32, 3)

    def forward(self, x):
        hidden = self.body(self.norm(x))
        return {"logits": self.head(hidden), "hidden": hidden}


torch.jit.save(torch.jit.script(Classifier()), f"{out}/model.pt")


def rows(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()
    return x, y


def write_table(path, x, y, sep):
    with open(path, "w") as f:
        f.write(sep.join(["a", "b", "c", "d", "label"]) + "\n")
        for features, label in zip(x.tolist(), y.tolist()):
            f.write(sep.join(f"{v:.7g}" for v in features) + f"{sep}{label}\n")


write_table(f"{out}/train.csv", *rows(400, 1), ",")
write_table(f"{out}/val.tsv", *rows(200, 2), "\t")
torch.save({"features": rows(50, 3)[0]}, f"{out}/inputs.pt")
