#!/usr/bin/env bash
# Token-budget batching against fixed-size batches on sequences whose lengths
# look like a proteome's (log-normal around a median of 415 residues, a long
# tail, cut at 1,022: ESM-2's limit), predicted with the built-in
# protein_encoder and no writer, one compute thread. Fixed batches pad every
# row to its batch's longest; max_tokens sorts by length and packs batches up
# to the budget. Reports each run's median wall time, its batches and the
# token positions computed (rows x padded length, summed over batches).
#   bash tests/bench/bench_max_tokens.sh [SEQUENCES] [REPEATS] [BATCH_SIZE] [MAX_TOKENS]
set -euo pipefail
cd "$(dirname "$0")/../.."
sequences=${1:-1000}
repeats=${2:-2}
batch_size=${3:-16}
max_tokens=${4:-8192}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

/usr/bin/python3 - "$work/proteome.fa" "$sequences" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(0)
with open(path, "w") as f:
    for i in range(n):
        length = min(1022, max(20, int(rng.lognormvariate(6.03, 0.75))))
        f.write(f">P{i:05d}\n" + "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(length)) + "\n")
PY
cat > "$work/job.yaml" <<YAML
seed_everything: 1
model:
  class_path: protein_encoder
  init_args: {embed_dim: 64, num_heads: 4, num_layers: 2, ff_dim: 128, max_positions: 1024}
data:
  predict: {fasta: $work/proteome.fa, max_length: 1024}
YAML
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# The batches each way would make, and the token positions they hold, from the same lengths.
/usr/bin/python3 - "$work/proteome.fa" "$batch_size" "$max_tokens" > "$work/positions" <<'PY'
import sys
lengths = [min(len(l.strip()) + 2, 1024) for l in open(sys.argv[1]) if not l.startswith(">")]
b, t = int(sys.argv[2]), int(sys.argv[3])
fixed = [lengths[i:i + b] for i in range(0, len(lengths), b)]
packed, batch = [], []
for n in sorted(lengths):
    if batch and max(batch + [n]) * (len(batch) + 1) > t:
        packed.append(batch); batch = []
    batch.append(n)
packed.append(batch)
print(sum(lengths), sum(max(x) * len(x) for x in fixed), len(fixed), sum(max(x) * len(x) for x in packed), len(packed))
PY
read -r real fixed_positions fixed_batches packed_positions packed_batches < "$work/positions"
for round in $(seq "$repeats"); do
  for mode in fixed packed; do
    args=(--data.predict.batch_size="$batch_size")
    [[ $mode == packed ]] && args=(--data.predict.max_tokens="$max_tokens")
    /usr/bin/time -f "%e" -o "$work/time" build/bin/minitrain predict --config "$work/job.yaml" "${args[@]}" > "$work/log" 2>&1 ||
      { cat "$work/log"; exit 1; }
    grep -q "$([[ $mode == packed ]] && echo "$packed_batches batches of up to $max_tokens tokens" || echo "$fixed_batches batches of up to $batch_size")" "$work/log" ||
      { echo "unexpected batching:"; grep "data.predict" "$work/log"; exit 1; }
    cat "$work/time" >> "$work/times_$mode"
  done
done
fixed_s=$(median < "$work/times_fixed")
packed_s=$(median < "$work/times_packed")
echo "$sequences sequences, $real tokens; median of $repeats runs, 1 compute thread"
echo
echo "| batching | batches | token positions computed | wall time | speed-up |"
echo "|---|---|---|---|---|"
awk -v b="$batch_size" -v n="$fixed_batches" -v p="$fixed_positions" -v s="$fixed_s" 'BEGIN {printf "| batch_size: %d | %d | %d | %.2f s | 1.00x |\n", b, n, p, s}'
awk -v t="$max_tokens" -v n="$packed_batches" -v p="$packed_positions" -v s="$packed_s" -v f="$fixed_s" \
  'BEGIN {printf "| max_tokens: %d | %d | %d | %.2f s | %.2fx |\n", t, n, p, s, f / s}'
