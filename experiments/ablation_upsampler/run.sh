#!/usr/bin/env bash
# Recipe: every variant of conf/experiment/ablation_upsampler.yaml, then the comparison (table, plot, report).
set -euo pipefail
cd "$(dirname "$0")/../.."
log_dir=logs/experiments/ablation_upsampler
.venv/bin/python -m srlab.train -m experiment=ablation_upsampler paths.log_dir=$log_dir "$@"
sweep=$(ls -d $log_dir/train/multiruns/* | tail -n 1)
.venv/bin/python -m srlab.compare "$sweep" html=true output=experiments/ablation_upsampler
