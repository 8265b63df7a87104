r"""`python -m srlab.prepare`: DIV2K-style LR folders by the degradation, in parallel.

    python -m srlab.prepare hr_dir=data/DIV2K/DIV2K_train_HR \
        out_dir=data/DIV2K/DIV2K_train_LR_bicubic scales=[2,3,4] [degradation=bd]

writes `out_dir/X{s}/{stem}x{s}.png`: the degradation (MATLAB's bicubic downscale by default; a
random one's noise fixed per image, as eval makes it) of the HR mod-cropped to s, the layout that
`data.train_lr_dir` and eval's `data.lr_dirs` read. Outputs that exist are kept
unless `overwrite=true`; each is written atomically, so an interrupted run can simply be rerun.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

from omegaconf import DictConfig
from rich.progress import Progress

from srlab.data.degradation import Degradation
from srlab.data.io import list_images, mod_crop, read_image, write_image
from srlab.utils.entry import hydra_entry_point
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import instantiate
from srlab.utils.tables import print_table

log = logging.getLogger("srlab")  # not "__main__" under python -m
USAGE = (
    "python -m srlab.prepare hr_dir=data/DIV2K/DIV2K_train_HR"
    " out_dir=data/DIV2K/DIV2K_train_LR_bicubic [scales=[2,3,4]]"
)
EXAMPLES = (
    (
        "python -m srlab.prepare hr_dir=src/srlab/assets/Set5 out_dir=logs/prepared/Set5 "
        "scales=[2,3,4]"
    ),
    (
        "python -m srlab.prepare hr_dir=data/DIV2K/DIV2K_train_HR "
        "out_dir=data/DIV2K/DIV2K_train_LR_bd degradation=bd"
    ),
    "python -m srlab.prepare download=div2k                         # the official DIV2K archives",
)
MAX_DEFAULT_WORKERS = 8


def download(cfg: DictConfig) -> dict:
    """download=div2k: the official DIV2K archives (HR, and bicubic LR at `scales`)."""
    from srlab.data.download import LR_SCALES, download_div2k

    if cfg.download != "div2k":
        raise SRLabError(f"download={cfg.download!r}: the one known dataset is div2k")
    scales = tuple(s for s in cfg.scales if s in LR_SCALES)
    folders = download_div2k(Path(cfg.paths.data_dir), scales=scales)
    rows = [(str(folder), str(len(list_images(folder, str(folder))))) for folder in folders]
    print_table(f"DIV2K in {Path(cfg.paths.data_dir) / 'DIV2K'}", ("folder", "images"), rows)
    return {str(folder): {"written": 0, "skipped": 0} for folder in folders}


def prepare(cfg: DictConfig) -> dict[int, dict[str, int]]:
    """Per scale, how many LR images were written and how many were kept (they existed)."""
    if cfg.get("download"):
        return download(cfg)
    scales = check_scales(cfg.scales)
    files = list_images(cfg.hr_dir, "hr_dir")
    check_unique_stems(files)
    out_dir = Path(cfg.out_dir)
    workers = cfg.get("workers") or min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1)
    degradation = instantiate(cfg.degradation)

    counts: dict[int, Counter] = {scale: Counter() for scale in scales}
    # Threads suffice: decoding, the resize (torch) and PNG encoding all release the GIL.
    with ThreadPoolExecutor(max_workers=workers) as pool, Progress() as progress:
        task = progress.add_task(f"LR x{','.join(map(str, scales))}", total=len(files))
        futures = [
            pool.submit(prepare_image, path, out_dir, scales, cfg.overwrite, degradation)
            for path in files
        ]
        try:
            for future in as_completed(futures):
                for scale, written in future.result().items():
                    counts[scale]["written" if written else "kept"] += 1
                progress.advance(task)
        except BaseException:
            cancel(futures)
            raise
    summary = {scale: {"written": c["written"], "kept": c["kept"]} for scale, c in counts.items()}
    print_prepare_table(summary, out_dir, degradation.name)
    return summary


def check_scales(scales: int | list[int] | None) -> list[int]:
    values = [scales] if isinstance(scales, int) else list(scales or [])
    if not values or any(not isinstance(s, int) or s < 2 for s in values):
        raise SRLabError(f"scales={values}: give integer scales >= 2, e.g. scales=[2,3,4]")
    return sorted(set(values))


def check_unique_stems(files: list[Path]) -> None:
    """baby.png and baby.jpg would both become X2/babyx2.png."""
    stems = Counter(path.stem for path in files)
    clashes = [path.name for path in files if stems[path.stem] > 1]
    if clashes:
        raise SRLabError(
            f"images in {files[0].parent} share a name with different extensions: "
            f"{', '.join(clashes[:10])}; their LR files would overwrite each other: keep one"
        )


def prepare_image(
    path: Path, out_dir: Path, scales: list[int], overwrite: bool, degradation: Degradation
) -> dict[int, bool]:
    """Write the missing LR images of one HR image; {scale: written (False: kept)}."""
    targets = {scale: lr_path(out_dir, path.stem, scale) for scale in scales}
    todo = [scale for scale, target in targets.items() if overwrite or not target.exists()]
    if todo:
        hr = read_image(path)
        for scale in todo:
            lr = degradation.degrade(mod_crop(hr, scale), scale, path.stem)
            write_image(targets[scale], lr)
    return {scale: scale in todo for scale in scales}


def lr_path(out_dir: Path, stem: str, scale: int) -> Path:
    """DIV2K's layout: X2/0001x2.png."""
    return out_dir / f"X{scale}" / f"{stem}x{scale}.png"


def cancel(futures: list[Future]) -> None:
    """Drop the images not started yet; the ones running finish (their writes are atomic)."""
    for future in futures:
        future.cancel()


def print_prepare_table(
    summary: dict[int, dict[str, int]], out_dir: Path, degradation: str
) -> None:
    rows = [
        (f"x{scale}", str(lr_path(out_dir, "", scale).parent), str(n["written"]), str(n["kept"]))
        for scale, n in summary.items()
    ]
    print_table(
        f"LR images ({degradation}) in {out_dir}", ("scale", "folder", "written", "kept"), rows
    )


main = hydra_entry_point("prepare", prepare, USAGE, __doc__, EXAMPLES)


if __name__ == "__main__":
    main()
