#!/usr/bin/env bash
# Recipe: conf/experiment/degradation.yaml (the same net trained on BI, BD and blind), then every
# run's final checkpoint evaluated on Set5 and Set14 with LR made by BI, BD and DN, and bicubic
# interpolation under the same three; then the table (rows: trained on, columns: evaluated on).
#   SEEDS=3 bash experiments/degradation/run.sh [../shared/data]
#   SWEEP=<sweep dir> bash experiments/degradation/run.sh   # only the evaluations and the table
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${1:-../shared/data}
log_dir=logs/experiments/degradation
if [[ -z "${SWEEP:-}" ]]; then
  bash experiments/run_study.sh degradation
  SWEEP=$(ls -d "$log_dir"/train/multiruns/* | tail -n 1)
fi
sets="data.sets=[Set5,$shared/benchmarks/Set14]"
evaluate() {  # evaluate <degradation> <output dir> <what: ckpt_path=... or model=bicubic scale=2>
  .venv/bin/python -m srlab.eval "degradation=$1" "$sets" cost.latency=false \
    "hydra.run.dir=$2" "${@:3}"
}
for degradation in bicubic bd dn; do
  evaluate "$degradation" "$log_dir/bicubic_interpolation/$degradation" model=bicubic scale=2
  for run in "$SWEEP"/*/; do
    evaluate "$degradation" "${run}eval/$degradation" "ckpt_path=${run}checkpoints/last.ckpt"
  done
done
.venv/bin/python experiments/degradation/table.py "$SWEEP" \
  --baseline "$log_dir/bicubic_interpolation"
