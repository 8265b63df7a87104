#!/usr/bin/env bash
# bash experiments/run_study.sh <study> [overrides...]: every variant of
# conf/experiment/<study>.yaml, then its comparison (table, plot, report) into experiments/<study>.
set -euo pipefail
study=$1
shift
cd "$(dirname "$0")/.."
log_dir=logs/experiments/$study
.venv/bin/python -m srlab.train -m "experiment=$study" "paths.log_dir=$log_dir" "$@"
sweep=$(ls -d "$log_dir"/train/multiruns/* | tail -n 1)
.venv/bin/python -m srlab.compare "$sweep" html=true "output=experiments/$study"
