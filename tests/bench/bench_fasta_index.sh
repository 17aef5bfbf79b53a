#!/usr/bin/env bash
# Peak memory and time of predicting over a FASTA file held in memory and read
# on demand through its index, for a file of SIZE_MB and one ten times
# smaller with as many records (longer sequences, UniProt's 60-residue lines).
# The model sees the first max_length tokens of each, so the work per record
# is the same; what changes is how many residues the file holds.
#   bash tests/bench/bench_fasta_index.sh [SIZE_MB (2048)] [RECORDS (20000)]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-2048}
records=${2:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate() {  # PATH MEGABYTES
  /usr/bin/python3 - "$1" "$2" "$records" <<'PY'
import random, sys
path, megabytes, records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(0)
lines_per_record = max(1, megabytes * (1 << 20) // records // 61)
block = "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(60 * 100_000))
wrapped = "".join(block[i:i + 60] + "\n" for i in range(0, len(block), 60))  # 100,000 lines of 60
with open(path, "w") as f:
    for r in range(records):
        start = rng.randrange(0, 100_000 - lines_per_record) * 61 if lines_per_record < 100_000 else 0
        f.write(f">R{r:07d} generated record {r}\n")
        f.write(wrapped[start:start + lines_per_record * 61])
PY
}

cat > "$work/job.yaml" <<YAML
seed_everything: 1
trainer:
  callbacks:
    - plugin: prediction_writer
      init_args: {output_dir: $work/out, write_interval: epoch, keys: [embeddings], overwrite: true}
model:
  class_path: protein_encoder
  init_args: {embed_dim: 16, num_heads: 2, num_layers: 1, ff_dim: 32}
data:
  batch_size: 64
  predict: {fasta: $work/small.fa, max_length: 64}
YAML

run() {  # LABEL FILE INDEX
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/peak_kb" build/bin/minitrain predict --config "$work/job.yaml" \
    --data.predict.fasta="$2" --data.predict.index="$3" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
  end=$(date +%s.%N)
  printf '| %s | %s | %.0f MiB | %.1f s |\n' "$1" "$3" "$(($(cat "$work/peak_kb") / 1024))" "$(echo "$end - $start" | bc)"
}

generate "$work/small.fa" $((size_mb / 10))
generate "$work/large.fa" "$size_mb"
small_mb=$(($(stat -c %s "$work/small.fa") >> 20))
large_mb=$(($(stat -c %s "$work/large.fa") >> 20))
echo "$records records each: small.fa $small_mb MiB, large.fa $large_mb MiB"
echo "| file | index | peak RSS | wall |"
echo "| --- | --- | --- | --- |"
run "small.fa ($small_mb MiB)" "$work/small.fa" never
run "small.fa, index built" "$work/small.fa" always
run "small.fa, index reused" "$work/small.fa" always
run "large.fa ($large_mb MiB)" "$work/large.fa" never
run "large.fa, index built" "$work/large.fa" always
run "large.fa, index reused" "$work/large.fa" always
