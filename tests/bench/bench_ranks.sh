#!/usr/bin/env bash
# Predict throughput with 1 and 2 ranks on the same synthetic job: a
# TorchScript MLP (made here with Python) over synthetic features, no writer,
# so the numbers are the loop's. Median wall time of REPEATS runs each, and
# the same for a 1-sample job: the fixed cost of starting the processes (and,
# with 2 ranks, the launcher and the rendezvous), which the rate leaves out.
#   bash tests/bench/bench_ranks.sh [SAMPLES] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
samples=${1:-1000000}
repeats=${2:-3}
cli=build/bin/minitrain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work/mlp.pt" <<'PY'
import sys, torch
torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512), torch.nn.ReLU(),
                          torch.nn.Linear(512, 16))
torch.jit.save(torch.jit.script(mlp), sys.argv[1])
PY
for n in "$samples" 1; do
  cat > "$work/job_$n.yaml" <<YAML
model: {torchscript: $work/mlp.pt}
data:
  batch_size: 1024
  predict: {synthetic: $n, num_features: 64, num_classes: 16}
YAML
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
calc() { awk "BEGIN {print $1}"; }
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); calc "$end - $start"; }

time_of() {  # JOB_SIZE COMMAND...: the median wall time
  local n=$1; shift
  for _ in $(seq "$repeats"); do seconds "$cli" "$@" --config "$work/job_$n.yaml"; done | median
}
one=$(time_of "$samples" predict); one_fixed=$(time_of 1 predict)
two=$(time_of "$samples" launch --nproc 2 predict); two_fixed=$(time_of 1 launch --nproc 2 predict)
rate() { calc "$samples / ($1 - $2)"; }
echo "samples: $samples, threads per rank: ${OMP_NUM_THREADS:-LibTorch default}, median of $repeats"
printf "1 rank:  wall %6.2f s, fixed %5.2f s, %8.0f samples/s\n" "$one" "$one_fixed" "$(rate "$one" "$one_fixed")"
printf "2 ranks: wall %6.2f s, fixed %5.2f s, %8.0f samples/s  (%.2fx the rate of 1 rank)\n" "$two" "$two_fixed" \
  "$(rate "$two" "$two_fixed")" "$(calc "$(rate "$two" "$two_fixed") / $(rate "$one" "$one_fixed")")"
