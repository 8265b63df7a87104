"""The published record: every authors' file in ../shared/data/published scored by srlab.eval
on Set5, Set14 and BSD68 at its scale(s), beside the paper's numbers.

    .venv/bin/python experiments/published/record.py [--shared ../shared/data] [--sets Set5,Set14,BSD68]

Writes experiments/published/results/<file>_x<scale>.json (srlab.eval's results, with the
parameter count) and prints the Markdown table of experiments/published/record.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hydra import compose, initialize_config_dir

from srlab.eval import evaluate
from srlab.ops.cost import count_parameters
from srlab.utils.hydra import config_dir
from srlab.weights.loading import load_net

HERE = Path(__file__).resolve().parent
# (folder/file, scales, the paper's Set5 / Set14 PSNR (dB) / SSIM per scale, where it gives one)
FILES = [
    ("vdsr/VDSR_Official.mat", (2, 3, 4)),
    ("srcnn/srcnn_955_imagenet_x3.mat", (3,)),
    ("imdn/IMDN_x2.pth", (2,)),
    ("imdn/IMDN_x3.pth", (3,)),
    ("imdn/IMDN_x4.pth", (4,)),
    ("rfdn/RFDN_AIM.pth", (4,)),
    ("rlfn/rlfn_x2.pth", (2,)),
    ("rlfn/rlfn_s_x2.pth", (2,)),
    ("rlfn/rlfn_s_x4.pth", (4,)),
    ("rlfn/rlfn_ntire_x4.pth", (4,)),
    ("bsrn/net_g_BSRN_x2.pth", (2,)),
    ("bsrn/net_g_BSRN_x3.pth", (3,)),
    ("bsrn/net_g_BSRN_x4.pth", (4,)),
    ("bsrn/net_g_BSRN-S.pth", (4,)),
    ("carn/carn_m.pth", (2, 3, 4)),
]
# (file, scale) -> {set: (PSNR, SSIM or None)}: the papers' main comparison tables (BSD68 is not
# B100, so no paper gives it); None where the paper has no row for this file.
PAPER = {
    ("VDSR_Official.mat", 2): {"Set5": (37.53, 0.9587), "Set14": (33.03, 0.9124)},
    ("VDSR_Official.mat", 3): {"Set5": (33.66, 0.9213), "Set14": (29.77, 0.8314)},
    ("VDSR_Official.mat", 4): {"Set5": (31.35, 0.8838), "Set14": (28.01, 0.7674)},
    ("srcnn_955_imagenet_x3.mat", 3): {"Set5": (32.75, 0.9090), "Set14": (29.30, 0.8215)},
    ("IMDN_x2.pth", 2): {"Set5": (38.00, 0.9605), "Set14": (33.63, 0.9177)},
    ("IMDN_x3.pth", 3): {"Set5": (34.36, 0.9270), "Set14": (30.32, 0.8417)},
    ("IMDN_x4.pth", 4): {"Set5": (32.21, 0.8948), "Set14": (28.58, 0.7811)},
    ("rlfn_x2.pth", 2): {"Set5": (38.07, 0.9607), "Set14": (33.72, 0.9187)},
    ("rlfn_s_x2.pth", 2): {"Set5": (38.05, 0.9607), "Set14": (33.68, 0.9172)},
    ("rlfn_s_x4.pth", 4): {"Set5": (32.23, 0.8961), "Set14": (28.61, 0.7818)},
    ("net_g_BSRN_x2.pth", 2): {"Set5": (38.10, 0.9610), "Set14": (33.74, 0.9193)},
    ("net_g_BSRN_x3.pth", 3): {"Set5": (34.46, 0.9277), "Set14": (30.47, 0.8449)},
    ("net_g_BSRN_x4.pth", 4): {"Set5": (32.35, 0.8966), "Set14": (28.73, 0.7847)},
    ("net_g_BSRN-S.pth", 4): {"Set5": (32.16, 0.8949), "Set14": (28.62, 0.7823)},
    ("carn_m.pth", 2): {"Set5": (37.53, 0.9583), "Set14": (33.26, 0.9141)},
    ("carn_m.pth", 3): {"Set5": (33.99, 0.9236), "Set14": (30.08, 0.8367)},
    ("carn_m.pth", 4): {"Set5": (31.92, 0.8903), "Set14": (28.42, 0.7762)},
}


def score(path: Path, scale: int, sets: list[Path], output: Path) -> dict:
    overrides = [
        f"ckpt_path={path}",
        f"scale={scale}",
        f"data.sets=[{','.join(str(s) for s in sets)}]",
        f"output={output}",
        f"hydra.run.dir={output.parent}",
    ]
    with initialize_config_dir(config_dir(), version_base=None):
        cfg = compose("eval", overrides=overrides)
    results = evaluate(cfg)
    results["params"] = count_parameters(load_net(path, scale))
    output.write_text(json.dumps(results, indent=2))
    return results


def cell(ours: dict, paper: tuple[float, float] | None) -> str:
    text = f"{ours['psnr']:.2f} / {ours['ssim']:.4f}"
    if paper is None:
        return text
    return f"{text} ({paper[0]:.2f} / {paper[1]:.4f}, {ours['psnr'] - paper[0]:+.2f})"


def table(rows: list[tuple[str, int, dict]], set_names: list[str]) -> str:
    head = "| file | scale | parameters | " + " | ".join(set_names) + " |"
    lines = [head, "| --- | --- | --- |" + " --- |" * len(set_names)]
    for name, scale, results in rows:
        paper = PAPER.get((name, scale), {})
        cells = [cell(results[s], paper.get(s)) for s in set_names]
        lines.append(f"| `{name}` | ×{scale} | {results['params']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared" / "data")
    parser.add_argument("--sets", default="Set5,Set14,BSD68")
    args = parser.parse_args()
    set_names = args.sets.split(",")
    sets = [args.shared / "benchmarks" / name for name in set_names]
    rows = []
    for relative, scales in FILES:
        for scale in scales:
            name = Path(relative).name
            output = HERE / "results" / f"{Path(relative).stem}_x{scale}.json"
            if output.is_file():
                results = json.loads(output.read_text())
            else:
                results = score(args.shared / "published" / relative, scale, sets, output)
            rows.append((name, scale, results))
    print(table(rows, set_names))


if __name__ == "__main__":
    main()
