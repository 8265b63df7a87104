#!/usr/bin/env bash
# Recipe: conf/experiment/ablation_family.yaml (4 families, 90 s of CPU training each), then the
# comparison. SEEDS=3 bash experiments/ablation_family/run.sh for mean ± std over seeds 0, 1, 2.
# The budget is wall time: run it on an otherwise idle machine.
exec "$(dirname "$0")/../run_study.sh" ablation_family "$@"
