"""Writes exported models and their data, as a Python user would: four
AOTInductor packages (torch.export.export, then
torch._inductor.aoti_compile_and_package) and the eager models' own outputs.
  dict.pt2    forward(x) -> {"logits": [B, 3], "hidden": [B, 16]}, dynamic batch
  tuple.pt2   forward(x, y) -> ([B, 4], [B]), dynamic batch
  tensor.pt2  forward(x) -> [B, 2], dynamic batch
  fixed.pt2   the same, exported for batches of exactly 5
inputs.pt holds features [10, 4] and extra [10, 4]; val.csv 40 labelled rows;
expected.pt what each eager model returns on inputs.pt.

usage: exported_fixture.py OUT_DIR
"""
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU())
        self.head = torch.nn.Linear(16, 3)

    def forward(self, x):
        hidden = self.body(x)
        return {"logits": self.head(hidden), "hidden": hidden}


class Pair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mix = torch.nn.Linear(8, 4)

    def forward(self, x, y):
        mixed = self.mix(torch.cat([x, y], dim=1))
        return mixed, mixed.square().sum(dim=1)


class Squashed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        return torch.tanh(self.head(x))


def package(model, args, name, dynamic):
    batch = torch.export.Dim("batch", min=1, max=4096)
    shapes = {key: {0: batch} for key in ("x", "y")[: len(args)]} if dynamic else None
    program = torch.export.export(model, args, dynamic_shapes=shapes)
    torch._inductor.aoti_compile_and_package(program, package_path=f"{out}/{name}.pt2")


g = torch.Generator().manual_seed(3)
features, extra = torch.randn(10, 4, generator=g), torch.randn(10, 4, generator=g)
torch.save({"features": features, "extra": extra}, f"{out}/inputs.pt")
models = {"dict": Classifier().eval(), "tuple": Pair().eval(), "tensor": Squashed().eval()}
with torch.no_grad():
    expected = {"dict": models["dict"](features), "tuple": list(models["tuple"](features, extra)),
                "tensor": models["tensor"](features)}
torch.save(expected, f"{out}/expected.pt")

# Labels are the model's own answers, so validate must report an accuracy of 1; nine
# digits read back as the very same float32 values.
with open(f"{out}/val.csv", "w") as f:
    f.write("a,b,c,d,label\n")
    x = torch.randn(40, 4, generator=g)
    with torch.no_grad():
        labels = models["dict"](x)["logits"].argmax(1).tolist()
    for row, label in zip(x.tolist(), labels):
        f.write(",".join(f"{v:.9g}" for v in row) + f",{label}\n")

package(models["dict"], (features[:3],), "dict", dynamic=True)
package(models["tuple"], (features[:3], extra[:3]), "tuple", dynamic=True)
package(models["tensor"], (features[:3],), "tensor", dynamic=True)
package(models["tensor"], (features[:5],), "fixed", dynamic=False)
print("exported_fixture: 4 packages written")
