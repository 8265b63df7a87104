#!/usr/bin/env bash
# Recipe: conf/experiment/efficient.yaml (8 efficient-SR families at their papers' sizes, 200
# steps each on the embedded default), then the comparison: PSNR against parameters, MACs and
# latency (cost.latency=true measures it). SEEDS=3 for mean ± std over seeds 0, 1, 2.
exec "$(dirname "$0")/../run_study.sh" efficient cost.latency=true "$@"
