#!/usr/bin/env bash
# Recipe: conf/experiment/ablation_loss.yaml, every variant, then the comparison.
exec "$(dirname "$0")/../run_study.sh" ablation_loss "$@"
