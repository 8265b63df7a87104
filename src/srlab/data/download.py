"""Fetch DIV2K from its official archives: resumable, verified, extracted atomically.

`download_div2k(root)` leaves the standard layout under `root/DIV2K`:

    DIV2K/DIV2K_train_HR/0001.png ... 0800.png
    DIV2K/DIV2K_valid_HR/0801.png ... 0900.png
    DIV2K/DIV2K_train_LR_bicubic/X2/0001x2.png ...   (and X3, X4)
    DIV2K/DIV2K_valid_LR_bicubic/X2/0801x2.png ...

Each archive goes to `root/.downloads/<name>.zip.part` (resumed with an HTTP Range request),
becomes `<name>.zip` once complete, is checked (size and SHA-256 where known, the zip's CRCs
always), unzipped into a hidden temporary folder next to its target and renamed into place with
a marker file inside, so a folder in place is always complete. What is in place is never fetched
again.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from srlab.data.io import IMAGE_SUFFIXES
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json

log = logging.getLogger(__name__)

OFFICIAL = "https://data.vision.ee.ethz.ch/cvl/DIV2K"
PARTS = ("train_hr", "valid_hr", "train_lr", "valid_lr")
LR_SCALES = (2, 3, 4)
MARKER = ".srlab_download.json"  # written inside a folder before it is renamed into place
CHUNK = 1 << 20
TIMEOUT_S = 60


@dataclass(frozen=True)
class Archive:
    """One official zip: where its images end up (relative to root) and what it must be."""

    name: str  # the file is <name>.zip at <base_url>/<name>.zip
    part: str  # one of PARTS
    scale: int | None  # LR scale; None for HR
    folder: str  # where its images go, relative to root
    size: int | None  # bytes; None when not published
    sha256: str | None
    n_images: int | None

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.name}.zip"


def _lr(split: str, scale: int, size: int, sha256: str) -> Archive:
    return Archive(
        name=f"DIV2K_{split}_LR_bicubic_X{scale}",
        part=f"{split}_lr",
        scale=scale,
        folder=f"DIV2K/DIV2K_{split}_LR_bicubic/X{scale}",
        size=size,
        sha256=sha256,
        n_images=800 if split == "train" else 100,
    )


# Sizes and SHA-256 as recorded by TensorFlow Datasets for the same URLs
# (tensorflow_datasets/datasets/div2k/checksums.tsv, formerly url_checksums/div2k.txt);
# we found no checksums published by the DIV2K authors themselves.
# The HR zips hold DIV2K_{split}_HR/*.png; the LR zips hold DIV2K_{split}_LR_bicubic/X{s}/*.png.
# fmt: off
ARCHIVES: tuple[Archive, ...] = (
    Archive("DIV2K_train_HR", "train_hr", None, "DIV2K/DIV2K_train_HR", 3530603713,
            "9d0b9c463f6e35b6c62cc6a930ee2224f670b34c1df841a57670f9acf0f6c335", 800),
    Archive("DIV2K_valid_HR", "valid_hr", None, "DIV2K/DIV2K_valid_HR", 448993893,
            "20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc", 100),
    _lr("train", 2, 925390592, "a53a424317575838dadce4bcd97cf7b744d6855f43740ed5f0245af3cf4bd850"),
    _lr("train", 3, 427847282, "ad5c8e5507e2765823d3c2c5bd0934842efcd487c5370604c224090898b3163a"),
    _lr("train", 4, 246914039, "f006b837f4eb52b82909aa01478e6d6d199eefce932179491d0c9dbb706dde3a"),
    _lr("valid", 2, 117763600, "60eed9875c697df51204aa579e2a699e1d5215095788a097ff54dd17e2664d57"),
    _lr("valid", 3, 54513392, "04b9a2ed3b4a0715d3924d3ae8514830c3328fac8d30512ce716d6f419e052a3"),
    _lr("valid", 4, 31505881, "a50a5d1c4b88de4e8d300d8fb2b904c52fe93b2b298a4899697760d7cbb6d553"),
)
# fmt: on


class TransientError(Exception):
    """A dropped connection or a short body: worth another try that resumes."""


def download_div2k(
    root: str | Path,
    scales: Sequence[int] = LR_SCALES,
    parts: Sequence[str] = PARTS,
    base_url: str = OFFICIAL,
    progress: bool = True,
    keep_archives: bool = False,
    retries: int = 3,
    archives: Sequence[Archive] = ARCHIVES,
) -> list[Path]:
    """Put the chosen DIV2K archives in place under `root/DIV2K`; return their folders.

    `root` is the data folder that holds (or will hold) `DIV2K/`. LR archives are fetched for
    each of `scales` when their part is chosen. A dropped connection is retried `retries` times,
    resuming where it stopped. `keep_archives` keeps the verified zips in `root/.downloads`.
    """
    root = Path(root)
    chosen = select_archives(archives, scales, parts)
    todo = [archive for archive in chosen if not in_place(root, archive)]
    for archive in chosen:
        if archive not in todo:
            log.info("%s: already in %s", archive.name, root / archive.folder)
    if todo:
        check_free_space(root, todo)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        disable=not progress,
    ) as bar:
        for archive in todo:
            zip_path = fetch(root, archive, base_url, bar, retries)
            verify(zip_path, root, archive, base_url, bar)
            extract(zip_path, root, archive, base_url, bar)
            if not keep_archives:
                zip_path.unlink()
    return [root / archive.folder for archive in chosen]


def select_archives(
    archives: Sequence[Archive], scales: Sequence[int], parts: Sequence[str]
) -> list[Archive]:
    for part in parts:
        if part not in PARTS:
            raise SRLabError(f"unknown DIV2K part {part!r}: choose from {', '.join(PARTS)}")
    for scale in scales:
        if scale not in LR_SCALES:
            raise SRLabError(
                f"DIV2K has no bicubic LR archive for scale {scale}: choose scales from "
                f"{LR_SCALES}, or leave out the LR parts (LR is then made from HR on the fly)"
            )
    return [
        archive
        for archive in archives
        if archive.part in parts and (archive.scale is None or archive.scale in scales)
    ]


def downloads_dir(root: Path) -> Path:
    return root / ".downloads"


def count_images(folder: Path) -> int:
    return sum(1 for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)


def in_place(root: Path, archive: Archive) -> bool:
    """True when the archive's folder is complete; an error when a folder of unknown state is
    there (it would be neither trusted nor overwritten)."""
    target = root / archive.folder
    if (target / MARKER).is_file():
        return True
    if not target.exists():
        return False
    if not target.is_dir():
        raise SRLabError(f"{target} is a file, where the {archive.name} images go; move it away")
    found = count_images(target)
    if found == 0 and not any(target.iterdir()):
        return False
    if archive.n_images is not None and found == archive.n_images:
        # Unzipped by hand: as many images as the archive holds, so trust it from now on.
        write_json(target / MARKER, {"archive": archive.name, "source": "found in place"})
        return True
    holds = f"{archive.n_images}" if archive.n_images is not None else "an unknown number of"
    raise SRLabError(
        f"{target} exists with {found} images but the {archive.name} archive holds {holds} "
        "images, and no completed download left that folder there; delete (or move) it and run "
        "again to download it, or unzip the official archive into it by hand"
    )


def check_free_space(root: Path, todo: Sequence[Archive]) -> None:
    """Fail before hours of downloading when the disk cannot hold the archives and their images.

    Zipped PNGs barely shrink, so the images take about the zip's size; each zip is deleted
    after extraction, so at most the largest one sits next to all the images.
    """
    sizes = [archive.size for archive in todo if archive.size is not None]
    if not sizes:
        return
    need = sum(sizes) + max(sizes)
    for archive in todo:
        for path in (zip_path_of(root, archive), part_path_of(root, archive)):
            if path.exists():
                need -= path.stat().st_size
    existing = root
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < need:
        raise SRLabError(
            f"not enough disk space for DIV2K under {root}: about {need / 1e9:.1f} GB needed, "
            f"{free / 1e9:.1f} GB free; free some space or set paths.data_dir=... to another disk"
        )


def zip_path_of(root: Path, archive: Archive) -> Path:
    return downloads_dir(root) / f"{archive.name}.zip"


def part_path_of(root: Path, archive: Archive) -> Path:
    return downloads_dir(root) / f"{archive.name}.zip.part"


def manual_hint(root: Path, archive: Archive, base_url: str) -> str:
    return (
        f"download {archive.url(base_url)} by hand into {downloads_dir(root)}/ (it is checked and "
        f"unzipped on the next run), or unzip it yourself so that {root / archive.folder} "
        "holds its images"
    )


def fetch(root: Path, archive: Archive, base_url: str, bar: Progress, retries: int) -> Path:
    """`<name>.zip` in the downloads folder, fetched into `.part` first and resumed if cut."""
    zip_path, part = zip_path_of(root, archive), part_path_of(root, archive)
    if zip_path.exists():
        return zip_path
    part.parent.mkdir(parents=True, exist_ok=True)
    url = archive.url(base_url)
    task = bar.add_task(f"{archive.name}.zip", total=archive.size)
    for attempt in range(retries + 1):
        try:
            fetch_once(url, part, archive.size, bar, task)
            break
        except TransientError as error:
            reason = error
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise SRLabError(
                    f"cannot download {url}: HTTP {error.code} {error.reason}; "
                    + manual_hint(root, archive, base_url)
                ) from error
            reason = error
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
        if attempt < retries:
            delay = min(2**attempt, 30)
            log.warning("%s: %s; retrying in %d s", url, reason, delay)
            time.sleep(delay)
    else:
        have = part.stat().st_size if part.exists() else 0
        kept = f"; the {have} bytes received are kept in {part}" if have else ""
        raise SRLabError(
            f"cannot download {url} ({reason}{kept}): check the connection and run again "
            "(a partial download resumes), or " + manual_hint(root, archive, base_url)
        )
    os.replace(part, zip_path)
    return zip_path


def fetch_once(url: str, part: Path, size: int | None, bar: Progress, task: TaskID) -> None:
    """Append the rest of `url` to `part`; TransientError when the body stops short."""
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        part.unlink()  # longer than the archive: not a prefix of it
        offset = 0
    if size is not None and offset == size:
        bar.update(task, completed=offset)
        return  # complete; verification decides whether it is right
    headers = {"User-Agent": "srlab"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            # Nothing after `offset`: either the part is complete (size unknown) or it is not a
            # prefix of this archive; start over unless it may be the whole file.
            if size is None:
                return
            part.unlink()
            raise TransientError(f"server refused to resume at byte {offset}") from error
        raise
    with response:
        if response.status == 206:
            if range_start(response) != offset:
                part.unlink()
                raise TransientError(f"server answered another range than bytes={offset}-")
            mode = "ab"
        else:  # 200: the server ignored the Range header and sends it all; start over
            mode, offset = "wb", 0
        length = response.headers.get("Content-Length")
        expected_end = offset + int(length) if length is not None else size
        bar.update(task, completed=offset, total=expected_end)
        received = offset
        with open(part, mode) as handle:
            while chunk := response.read(CHUNK):
                handle.write(chunk)
                received += len(chunk)
                bar.update(task, completed=received)
    # http.client returns b"" when the connection closes early instead of raising.
    if expected_end is not None and received < expected_end:
        raise TransientError(f"connection closed at byte {received} of {expected_end}")


def range_start(response: http.client.HTTPResponse) -> int | None:
    """The first byte of a 206 answer, from `Content-Range: bytes <start>-<end>/<total>`."""
    content_range = response.headers.get("Content-Range", "")
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def verify(zip_path: Path, root: Path, archive: Archive, base_url: str, bar: Progress) -> None:
    """Size and SHA-256 where known, the CRC of every member always; a bad file is deleted."""

    def reject(problem: str) -> SRLabError:
        return rejected(zip_path, root, archive, base_url, problem)

    size = zip_path.stat().st_size
    if archive.size is not None and size != archive.size:
        raise reject(f"expected {archive.size} bytes, got {size}")
    if archive.sha256 is not None:
        digest = sha256_of(zip_path, bar, f"checking {archive.name}.zip")
        if digest != archive.sha256:
            raise reject(f"expected SHA-256 {archive.sha256}, got {digest}")
    try:
        with zipfile.ZipFile(zip_path) as archive_file:
            bad_member = archive_file.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise reject(f"not a readable zip archive ({error})") from error
    if bad_member is not None:
        raise reject(f"member {bad_member} fails its CRC check")


def rejected(
    zip_path: Path, root: Path, archive: Archive, base_url: str, problem: str
) -> SRLabError:
    """Delete a bad archive and say what was wrong and what to do."""
    zip_path.unlink(missing_ok=True)
    return SRLabError(
        f"{archive.name}.zip is bad: {problem}; the file was deleted. Run again to download it "
        "afresh, or " + manual_hint(root, archive, base_url)
    )


def sha256_of(path: Path, bar: Progress, description: str) -> str:
    digest = hashlib.sha256()
    task = bar.add_task(description, total=path.stat().st_size)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            bar.advance(task, len(chunk))
    bar.remove_task(task)
    return digest.hexdigest()


def extract(zip_path: Path, root: Path, archive: Archive, base_url: str, bar: Progress) -> None:
    """Unzip into a hidden folder beside the target, then rename the image folder into place.

    The marker is written before the rename, so the target appears complete or not at all.
    Official zips wrap the images (`DIV2K_train_HR/`, `DIV2K_train_LR_bicubic/X2/`); a flat zip
    works too: the one folder that holds the images is what moves.
    """
    target = root / archive.folder
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.extract-"
    for stale in target.parent.glob(f"{prefix}*"):  # left by a killed extraction
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix))
    try:
        with zipfile.ZipFile(zip_path) as archive_file:
            members = [
                info
                for info in archive_file.infolist()
                if not info.is_dir()
                and "__MACOSX" not in Path(info.filename).parts
                and not Path(info.filename).name.startswith("._")
            ]
            task = bar.add_task(
                f"unzipping {archive.name}.zip", total=sum(info.file_size for info in members)
            )
            for info in members:
                archive_file.extract(info, tmp)
                bar.advance(task, info.file_size)
            bar.remove_task(task)
        source = image_folder(tmp, target.name)
        if source is None:
            raise rejected(zip_path, root, archive, base_url, "expected one folder of images")
        found = count_images(source)
        if archive.n_images is not None and found != archive.n_images:
            problem = f"expected {archive.n_images} images, got {found}"
            raise rejected(zip_path, root, archive, base_url, problem)
        write_json(
            source / MARKER,
            {
                "archive": archive.name,
                "url": archive.url(base_url),
                "sha256": archive.sha256,
                "n_images": found,
                "extracted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
        )
        os.replace(source, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def image_folder(tmp: Path, name: str) -> Path | None:
    """The one folder under `tmp` that holds images (preferring one called `name`), or None."""
    folders = sorted(
        {path.parent for path in tmp.rglob("*") if path.suffix.lower() in IMAGE_SUFFIXES}
    )
    if len(folders) > 1:
        folders = [folder for folder in folders if folder.name == name]
    return folders[0] if len(folders) == 1 else None
