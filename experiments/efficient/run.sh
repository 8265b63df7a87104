#!/usr/bin/env bash
# Recipe: conf/experiment/efficient.yaml (8 efficient-SR families at their papers' sizes, 90 s
# of CPU time each on the embedded default), then the comparison: PSNR against parameters and
# MACs. SEEDS=3 for mean ± std over seeds 0, 1, 2. The results in experiments/README.md ran
# with one thread on one core: OMP_NUM_THREADS=1 taskset -c 0 (the budget counts CPU seconds).
exec "$(dirname "$0")/../run_study.sh" efficient "$@"
