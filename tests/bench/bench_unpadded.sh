#!/usr/bin/env bash
# Disk bytes of padded and unpadded per-token outputs on sequences whose
# lengths look like a proteome's: log-normal around a median of 415 residues
# (UniProt's human proteome: many short, a few very long), cut at 2,046. The
# built-in protein_encoder predicts token_logits [rows, length, 30] for each;
# one run pads (batch files to their batch's longest, the epoch file to the
# epoch's longest), the other stores them flat with offsets.
#   bash tests/bench/bench_unpadded.sh [SEQUENCES]
set -euo pipefail
cd "$(dirname "$0")/../.."
sequences=${1:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work/proteome.fa" "$sequences" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
with open(path, "w") as f:
    for i in range(n):
        length = min(2046, max(20, int(rng.lognormvariate(6.03, 0.75))))
        f.write(f">P{i:05d}\n" + "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(length)) + "\n")
PY
cat > "$work/job.yaml" <<YAML
seed_everything: 1
trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {output_dir: $work/out, write_interval: batch_and_epoch, keys: [token_logits]}
model:
  class_path: protein_encoder
  init_args: {embed_dim: 16, num_heads: 2, num_layers: 1, ff_dim: 32, max_positions: 2048}
data:
  batch_size: 8
  predict: {fasta: $work/proteome.fa, max_length: 2048}
YAML
for mode in padded unpadded; do
  extra=()
  [[ $mode == unpadded ]] && extra=("--trainer.callbacks[0].init_args.unpadded_keys=[token_logits]")
  build/bin/minitrain predict --config "$work/job.yaml" --trainer.callbacks[0].init_args.output_dir="$work/$mode" "${extra[@]}" > "$work/$mode.log" 2>&1 || { cat "$work/$mode.log"; exit 1; }
  build/bin/minitrain collect --input "$work/$mode" --output "$work/$mode.pt" >/dev/null 2>&1
  batch_mb=$(find "$work/$mode" -name 'predictions__rank_0__batch_*.pt' -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s / 1048576}')
  epoch_mb=$(stat -c %s "$work/$mode/predictions__rank_0.pt" | awk '{printf "%.1f", $1 / 1048576}')
  collected_mb=$(stat -c %s "$work/$mode.pt" | awk '{printf "%.1f", $1 / 1048576}')
  echo "$mode: batch files $batch_mb MiB, epoch file $epoch_mb MiB, collected $collected_mb MiB"
done
/usr/bin/python3 - "$work" <<'PY'
import sys, torch
work = sys.argv[1]
padded, flat = torch.load(f"{work}/padded.pt"), torch.load(f"{work}/unpadded.pt")
o = flat["token_logits_offsets"]
lengths = (o[1:] - o[:-1])
for i in range(0, lengths.numel(), 97):  # a sample of rows: the same logits on every real token
    assert torch.equal(flat["token_logits"][o[i]:o[i + 1]], padded["token_logits"][i, :lengths[i]]), i
q = lengths.double().quantile(torch.tensor([0.5, 0.99], dtype=torch.float64)).tolist()
print(f"tokens: {int(o[-1])} in {lengths.numel()} sequences (median {q[0]:.0f}, 99th percentile {q[1]:.0f}, "
      f"longest {int(lengths.max())}); padded epoch shape {list(padded['token_logits'].shape)}")
PY
