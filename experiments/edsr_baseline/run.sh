#!/usr/bin/env bash
# Recipe: EDSR-baseline x2 then x4 on DIV2K (downloaded when missing) on 4 GPUs, then the
# paper-style evaluation of both best checkpoints on Set5, Set14 and B100.
set -euo pipefail
cd "$(dirname "$0")/../.."
for scale in 2 4; do
    .venv/bin/python -m srlab.train experiment=edsr_baseline_x$scale data.download=true \
        trainer=ddp trainer.devices=4 hydra.run.dir=logs/experiments/edsr_baseline_x$scale "$@"
    best=$(ls logs/experiments/edsr_baseline_x$scale/checkpoints/best-*.ckpt | tail -n 1)
    .venv/bin/python -m srlab.eval ckpt_path="$best" scale=$scale 'data.sets=[Set5,Set14,B100]' \
        output=experiments/edsr_baseline/x$scale.json
done
