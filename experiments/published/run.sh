#!/usr/bin/env bash
# The published record: every authors' file in ../shared/data/published scored by srlab.eval on
# Set5, Set14 and BSD68 at its scale(s), with its cost (1280x720 output) and the papers' numbers
# (papers.yaml) beside ours: experiments/published/leaderboard_x{2,3,4}/leaderboard.{md,csv,html}.
#   bash experiments/published/run.sh [../shared/data]
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${1:-../shared/data}
p=$shared/published
sets="data.sets=[$shared/benchmarks/Set5,$shared/benchmarks/Set14,$shared/benchmarks/BSD68]"
declare -A files=(
  [2]="$p/vdsr/VDSR_Official.mat,$p/imdn/IMDN_x2.pth,$p/rlfn/rlfn_x2.pth,$p/rlfn/rlfn_s_x2.pth,$p/bsrn/net_g_BSRN_x2.pth,$p/carn/carn_m.pth"
  [3]="$p/vdsr/VDSR_Official.mat,$p/srcnn/srcnn_955_imagenet_x3.mat,$p/imdn/IMDN_x3.pth,$p/bsrn/net_g_BSRN_x3.pth,$p/carn/carn_m.pth"
  [4]="$p/vdsr/VDSR_Official.mat,$p/imdn/IMDN_x4.pth,$p/rfdn/RFDN_AIM.pth,$p/rlfn/rlfn_s_x4.pth,$p/rlfn/rlfn_ntire_x4.pth,$p/bsrn/net_g_BSRN_x4.pth,$p/bsrn/net_g_BSRN-S.pth,$p/carn/carn_m.pth"
)
for scale in 2 3 4; do
  .venv/bin/python -m srlab.eval "ckpt_path=[${files[$scale]}]" "scale=$scale" "$sets" \
    cost.repeats=2 "hydra.run.dir=experiments/published/leaderboard_x$scale"
done
