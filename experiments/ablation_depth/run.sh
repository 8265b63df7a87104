#!/usr/bin/env bash
# Recipe: conf/experiment/ablation_depth.yaml, every variant, then the comparison.
exec "$(dirname "$0")/../run_study.sh" ablation_depth "$@"
