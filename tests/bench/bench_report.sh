#!/usr/bin/env bash
# What the run report costs: a fit of a small TorchScript MLP on synthetic data,
# 100 epochs of 256 steps, with and without run_report (every step recorded, the
# page rewritten every 10 s and at the end), the median of REPEATS runs' wall
# time; then `minitrain report` drawing the page of long records made here
# (N steps and N/100 epochs of a fit), its wall time and the page's size.
#   bash tests/bench/bench_report.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-5}
cli=build/bin/minitrain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work/mlp.pt" <<'PY'
import sys, torch
torch.manual_seed(0)
torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))), sys.argv[1])
PY
cat > "$work/job.yaml" <<YAML
trainer: {max_epochs: 100, default_root_dir: $work/run}
model: {torchscript: $work/mlp.pt, loss: mse}
optimizer: {class_path: sgd, init_args: {lr: 0.01}}
data:
  batch_size: 4
  train: {synthetic: 1024, num_features: 16, num_classes: 0}
YAML

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { local start end; start=$(date +%s.%N); "$@" >"$work/log" 2>&1; end=$(date +%s.%N); awk "BEGIN {printf \"%.2f\", $end - $start}"; }
echo "| fit of 25,600 steps | wall time (median of $repeats) |"
echo "| --- | --- |"
plain=() reported=()
for _ in $(seq "$repeats"); do
  plain+=("$(seconds "$cli" fit --config "$work/job.yaml")")
  reported+=("$(seconds "$cli" fit --config "$work/job.yaml" --trainer.callbacks='[{plugin: run_report}]')")
done
echo "| without run_report | $(printf '%s\n' "${plain[@]}" | median) s |"
echo "| with run_report | $(printf '%s\n' "${reported[@]}" | median) s |"

echo
echo "| record | minitrain report | page |"
echo "| --- | --- | --- |"
for steps in 10000 100000 1000000; do
  mkdir -p "$work/r$steps"
  /usr/bin/python3 - "$work/r$steps/run.jsonl" "$steps" <<'PY'
import json, math, sys
path, steps = sys.argv[1], int(sys.argv[2])
with open(path, "w") as out:
    out.write(json.dumps({"record": "start", "time": 0.0, "stage": "fit", "world_size": 1, "restart": 0, "job": "",
                          "runtime": "", "model": "m"}) + "\n")
    for s in range(1, steps + 1):
        out.write(json.dumps({"record": "step", "time": s * 0.01, "epoch": (s - 1) // 100, "step": s,
                              "loss": 1 / math.sqrt(s), "lr": 0.001}) + "\n")
        if s % 100 == 0:
            e = s // 100 - 1
            out.write(json.dumps({"record": "epoch", "time": s * 0.01, "epoch": e, "step": s, "train_seconds": 1.0,
                                  "batches": 100, "samples": 800,
                                  "metrics": {"train_loss": 1 / math.sqrt(s), "val_loss": 1.1 / math.sqrt(s)}}) + "\n")
    out.write(json.dumps({"record": "end", "time": steps * 0.01, "status": "finished", "message": ""}) + "\n")
PY
  time=$(seconds "$cli" report "$work/r$steps")
  echo "| $steps steps, $((steps / 100)) epochs ($(du -m "$work/r$steps/run.jsonl" | cut -f1) MB) | ${time} s | $(du -k "$work/r$steps/report.html" | cut -f1) kB |"
done
