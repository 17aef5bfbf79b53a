"""Checks what minitrain did with tabular_fixture.py's model and data:
the trained weights load into the Python model by their state_dict names, the
trained model classifies held-out rows well, and minitrain's predictions equal
the Python model's own forward on the same inputs.

usage: check_scripted_predictions.py FIXTURE_DIR WEIGHTS PREDICTIONS_FILE
"""
import sys

import torch

fixture, weights_path, predictions_path = sys.argv[1:4]
model = torch.jit.load(f"{fixture}/model.pt")
weights = torch.load(weights_path)
model.load_state_dict(weights)  # strict: every name must match
model.eval()

with open(f"{fixture}/val.tsv") as f:
    next(f)
    table = torch.tensor([[float(v) for v in line.split("\t")] for line in f])
with torch.no_grad():
    accuracy = (model(table[:, :4])["logits"].argmax(1) == table[:, 4].long()).float().mean().item()
assert accuracy > 0.8, f"trained accuracy {accuracy:.3f}: the fit did not learn"

inputs = torch.load(f"{fixture}/inputs.pt")["features"]
predictions = torch.load(predictions_path)
assert sorted(predictions) == ["batch_idx", "batch_indices", "hidden", "ids", "logits"], sorted(predictions)
assert torch.equal(predictions["batch_indices"], torch.arange(50)), predictions["batch_indices"]
assert predictions["ids"] == [str(i) for i in range(50)], predictions["ids"]  # no ids_key: the index
with torch.no_grad():
    expected = model(inputs)
for key in ("logits", "hidden"):
    assert torch.allclose(predictions[key], expected[key], atol=1e-6), (key, (predictions[key] - expected[key]).abs().max())
print(f"check_scripted_predictions: OK (accuracy {accuracy:.3f})")
