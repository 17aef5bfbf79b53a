#!/usr/bin/env bash
# What writing predictions costs a predict run whose outputs are as large as
# an ESM-2 embedding dump's: a TorchScript encoder returns per-token hidden
# states [64, 256, 512] float32, pooled embeddings [64, 512] and token logits
# [64, 256, 33] for each batch of 64 sequences of 256 tokens (SEQUENCES of
# them; 2048 make about 1.1 GB of predictions), on one compute thread.
# Runs alternate between no writer and each write_interval, REPEATS rounds;
# the table gives each one's median wall time and peak RSS, and its time over
# the same round's run without a writer (median and range of the rounds). Then the batch
# files are collected into one file of each format, against `cat` of them.
#   bash tests/bench/bench_writing.sh [SEQUENCES] [REPEATS] [DIR]   (DIR: where the files go; default a temporary one)
set -euo pipefail
cd "$(dirname "$0")/../.."
sequences=${1:-2048}
repeats=${2:-3}
work=$(mktemp -d ${3:+-p "$3"})
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

cat > "$work/encoder.py" <<'PY'
import sys, torch
from typing import Dict
class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(33, 512)
        self.layer = torch.nn.Linear(512, 512)
        self.logits = torch.nn.Linear(512, 33)
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        hidden = torch.tanh(self.layer(self.embed(input_ids)))
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return {"hidden_states": hidden, "embeddings": (hidden * mask).sum(1) / mask.sum(1),
                "token_logits": self.logits(hidden)}
torch.manual_seed(0)
torch.jit.save(torch.jit.script(Encoder()), sys.argv[1])
PY
/usr/bin/python3 "$work/encoder.py" "$work/encoder.pt"
/usr/bin/python3 - "$work/seqs.fa" "$sequences" <<'PY'
import random, sys
rng = random.Random(0)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f">S{i:05d}\n" + "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(254)) + "\n")
PY
cat > "$work/job.yaml" <<YAML
seed_everything: 1
model: {torchscript: $work/encoder.pt, inputs: [input_ids, attention_mask]}
data:
  batch_size: 64
  predict: {fasta: $work/seqs.fa, max_length: 256, padding: max_length}
YAML

# One run: "wall_s peak_mib" of a predict with the writer in `mode` (none: no callbacks;
# no_prefetch: none, and every batch built only when the model needs it).
run_mode() {
  local mode=$1 out="$work/out_$1"
  rm -rf "$out"
  sync  # so that no run pays for the writeback of the one before
  local writer=()
  case $mode in
    none) ;;
    no_prefetch) writer=(--data.prefetch_batches=0) ;;
    *) writer=("--trainer.callbacks=[{plugin: prediction_writer, init_args: {output_dir: $out, write_interval: $mode}}]") ;;
  esac
  /usr/bin/time -f "%e %M" -o "$work/time" build/bin/minitrain predict --config "$work/job.yaml" "${writer[@]}" > "$work/log" 2>&1 ||
    { cat "$work/log"; exit 1; }
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$work/time"
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

modes=(none batch epoch batch_and_epoch no_prefetch)
for round in $(seq "$repeats"); do
  for mode in "${modes[@]}"; do run_mode "$mode" >> "$work/times_$mode"; done
done
base_mib=$(cut -d' ' -f2 "$work/times_none" | median)
predictions_mb=$(du -sm "$work/out_batch" | cut -f1)
echo "predict: $sequences sequences x 256 tokens, batch 64, 1 compute thread; $predictions_mb MiB of batch files; $repeats rounds"
echo
echo "| write_interval | wall time | over no writer (median of rounds) | range | peak RSS | RSS / no writer |"
echo "|---|---|---|---|---|---|"
for mode in "${modes[@]}"; do
  s=$(cut -d' ' -f1 "$work/times_$mode" | median)
  mib=$(cut -d' ' -f2 "$work/times_$mode" | median)
  # Each round's run against the no-writer run of the same round, so that the machine's drift cancels.
  paste -d' ' <(cut -d' ' -f1 "$work/times_$mode") <(cut -d' ' -f1 "$work/times_none") |
    awk '{print ($1 / $2 - 1) * 100}' | sort -n > "$work/over_$mode"
  over=$(median < "$work/over_$mode")
  awk -v m="$mode" -v s="$s" -v o="$over" -v lo="$(head -1 "$work/over_$mode")" -v hi="$(tail -1 "$work/over_$mode")" \
    -v r="$mib" -v br="$base_mib" \
    'BEGIN {name = m == "none" ? "no writer" : m == "no_prefetch" ? "no writer, prefetch_batches: 0" : m
           printf "| %s | %.2f s | %+.1f%% | %+.1f%% to %+.1f%% | %d MiB | %.2fx |\n", name, s, o, lo, hi, r, r / br}'
done

# collect of the batch files, in every format, against cat of the same files;
# each after a sync, so that no run pays for the writeback of the one before.
files=("$work"/out_batch/predictions__rank_0__batch_*.pt)
formats=(pt safetensors hdf5 h5ad)
for round in $(seq "$repeats"); do
  sync
  /usr/bin/time -f "%e" -o "$work/time" sh -c 'cat "$@" > "$0"' "$work/cat.out" "${files[@]}"
  cat "$work/time" >> "$work/collect_cat"
  rm -f "$work/cat.out"
  for format in "${formats[@]}"; do
    sync
    /usr/bin/time -f "%e %M" -o "$work/time" build/bin/minitrain collect --input "$work/out_batch" --output "$work/all.$format" \
      --format "$format" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$work/time" >> "$work/collect_$format"
    [[ $format == pt && $round == 1 ]] && /usr/bin/python3 - "$work" <<'PY'
import sys, torch
work = sys.argv[1]
merged = torch.load(f"{work}/all.pt")
assert torch.equal(merged["batch_indices"], torch.arange(merged["batch_indices"].numel()))
epoch = torch.load(f"{work}/out_epoch/predictions__rank_0.pt")
for key in ("hidden_states", "embeddings", "token_logits"):  # one rank: the epoch file is in dataset order
    assert torch.equal(merged[key], epoch[key]), key
PY
    rm -f "$work/all.$format" "$work"/all.*.json
  done
done
/usr/bin/time -f "%e" -o "$work/time" build/bin/minitrain --version > /dev/null
cat_s=$(median < "$work/collect_cat")
echo
echo "| collect of the ${#files[@]} batch files | wall time | / cat ($cat_s s) | peak RSS |"
echo "|---|---|---|---|"
for format in "${formats[@]}"; do
  s=$(cut -d' ' -f1 "$work/collect_$format" | median)
  mib=$(cut -d' ' -f2 "$work/collect_$format" | median)
  awk -v f="$format" -v s="$s" -v c="$cat_s" -v r="$mib" 'BEGIN {printf "| --format %s | %.2f s | %.2fx | %d MiB |\n", f, s, s / c, r}'
done
echo
echo "(a LibTorch process that only prints --version takes $(cat "$work/time") s of each collect's time)"
