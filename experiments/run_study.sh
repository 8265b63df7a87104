#!/usr/bin/env bash
# bash experiments/run_study.sh <study> [overrides...]: every variant of
# conf/experiment/<study>.yaml, then its comparison (table, plot, report) into experiments/<study>.
# SEEDS=3 bash experiments/run_study.sh <study>: every variant with seed=0,1,2; the comparison
# then shows each variant's mean ± standard deviation over its seeds (and, with two variants,
# the difference of their mean PSNR with its 95% interval).
set -euo pipefail
study=$1
shift
cd "$(dirname "$0")/.."
log_dir=logs/experiments/$study
seeds=()
if [[ -n "${SEEDS:-}" ]]; then
  if ! [[ "$SEEDS" =~ ^[1-9][0-9]*$ ]]; then
    echo "SEEDS=$SEEDS: not a number of seeds; e.g. SEEDS=3 runs every variant with seed=0,1,2" >&2
    exit 1
  fi
  seeds=("seed=$(seq -s, 0 $((SEEDS - 1)))")
fi
# ${seeds[@]+...}: an empty array is "unbound" to `set -u` in bash before 4.4
.venv/bin/python -m srlab.train -m "experiment=$study" "paths.log_dir=$log_dir" \
  ${seeds[@]+"${seeds[@]}"} "$@"
sweep=$(ls -d "$log_dir"/train/multiruns/* | tail -n 1)
.venv/bin/python -m srlab.compare "$sweep" html=true "output=experiments/$study"
