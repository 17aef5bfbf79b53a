#!/usr/bin/env bash
# How a launch of many ranks grows with their number: `minitrain launch --nproc N`
# of a predict job small enough that the rest is start-up (a TorchScript MLP made
# here with Python over 64 synthetic samples, no writer). For each N, the median
# over REPEATS runs of the whole launch's wall time and of rank 0's rendezvous
# (its log's "N ranks met at ... in S s": from its TCPStore up to every rank
# joined, which includes waiting for the slowest rank to start), and the largest
# rank's peak RSS (GNU time's, of the last run; every rank is about the same).
#   bash tests/bench/bench_rendezvous.sh [MAX_RANKS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
max_ranks=${1:-32}
repeats=${2:-3}
cli=build/bin/minitrain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work/mlp.pt" <<'PY'
import sys, torch
torch.manual_seed(0)
torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Linear(64, 16))), sys.argv[1])
PY
cat > "$work/job.yaml" <<YAML
model: {torchscript: $work/mlp.pt}
data:
  batch_size: 8
  predict: {synthetic: 64, num_features: 64, num_classes: 16}
YAML

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| ranks | launch wall time | rank 0's rendezvous | peak RSS of one rank |"
echo "| --- | --- | --- | --- |"
for ((n = 2; n <= max_ranks; n *= 2)); do
  walls=() waits=() memory=()
  for _ in $(seq "$repeats"); do
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$work/rss" "$cli" launch --nproc "$n" predict --config "$work/job.yaml" >"$work/log" 2>&1
    end=$(date +%s.%N)
    walls+=("$(awk "BEGIN {print $end - $start}")")
    waits+=("$(sed -n "s/.* ranks met at .* in \([0-9.]*\) s$/\1/p" "$work/log")")
  done
  wall=$(printf '%s\n' "${walls[@]}" | median)
  wait=$(printf '%s\n' "${waits[@]}" | median)
  printf '| %d | %.2f s | %.2f s | %d MiB |\n' "$n" "$wall" "$wait" "$(($(cat "$work/rss") / 1024))"
done
