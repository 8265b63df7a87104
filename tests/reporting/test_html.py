"""report.html of a real 2-run sweep, opened in headless Chromium over the DevTools protocol: no
console errors, the numbers of summary.json, every image loaded, sorting by PSNR."""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.browser import DevTools, chromium_page, require_chromium, screenshot
from helpers.comparisons import runs_of_many_settings, summary_of
from helpers.images import SET5
from srlab.compare import compare as compare_runs
from srlab.compare import load_config
from srlab.data.io import read_image
from srlab.ops.pixels import as_batch
from srlab.ops.quality import psnr

PSNR = "val/Set5/psnr"


@pytest.fixture(scope="module")
def chromium() -> str:
    """First among a test's fixtures: without Chromium it skips before the sweep is made."""
    return require_chromium()


@pytest.fixture(scope="module")
def report(sweep: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("report")
    compare_runs(load_config([str(sweep), f"output={output}", "html=true"]))
    return output / "report.html"


@pytest.fixture(scope="module")
def page(
    chromium: str, report: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevTools]:
    """The report loaded in a fresh headless Chromium."""
    with chromium_page(tmp_path_factory.mktemp("chromium")) as devtools:
        devtools.call("Page.navigate", url=report.resolve().as_uri())
        devtools.wait_for("Page.loadEventFired")
        yield devtools


def table_rows(page: DevTools) -> list[dict[str, str]]:
    """Each row as {column: the cell's full-precision value}, in the order shown."""
    return page.evaluate(
        """(() => {
          const names = Array.from(document.querySelectorAll("#comparison thead th"),
                                   th => th.textContent);
          return Array.from(document.querySelectorAll("#comparison tbody tr"), row =>
            Object.fromEntries(Array.from(row.cells, (cell, i) => [names[i], cell.dataset.value])));
        })()"""
    )


def test_report_is_one_file_that_asks_the_network_for_nothing(report: Path) -> None:
    html = report.read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(source.startswith("data:") for source in sources)
    assert "http://" not in html and "https://" not in html


def shown_crops(report: Path) -> dict[str, tuple[np.ndarray, str]]:
    """The crop strip of report.html: label -> (the pixels shown, the caption)."""
    figures = re.findall(
        r'<figure><img src="data:image/png;base64,([^"]+)" alt="([^"]*)".*?'
        r"<figcaption><b>[^<]*</b>([^<]*)</figcaption>",
        report.read_text(),
    )
    return {
        html.unescape(label): (
            np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")),
            html.unescape(caption),
        )
        for data, label, caption in figures
    }


def test_each_crop_is_image_pixels_and_its_psnr_is_that_of_its_own_pixels(
    report: Path, sweep: Path
) -> None:
    crops = shown_crops(report)
    hr, _ = crops.pop("HR")
    # the HR crop is the validation image's own centre, nothing drawn over or above it
    name = re.search(r"(Set5_\w+), centre crop", report.read_text()).group(1)
    image = read_image(SET5 / f"{name.removeprefix('Set5_')}.png")
    top, left = (
        (side - crop) // 2 for side, crop in zip(image.shape[:2], hr.shape[:2], strict=True)
    )
    np.testing.assert_array_equal(hr, image[top : top + hr.shape[0], left : left + hr.shape[1]])
    assert len(crops) == 3  # bicubic and the two runs
    for label, (pixels, caption) in crops.items():
        own = psnr(as_batch(pixels), as_batch(hr), border=2)[0]  # the sweep is x2
        assert caption.endswith(f" · {own:.2f} dB on this crop"), (label, caption)
        assert re.match(r"\d+\.\d\d dB mean on Set5 · ", caption), caption
        assert own > 25  # a x2 crop of a set scored above 30 dB: no label band compared


def test_report_opens_without_console_errors_and_every_image_loads(page: DevTools) -> None:
    images = page.evaluate(
        "Array.from(document.images, image => [image.alt, image.complete, image.naturalWidth])"
    )
    assert len(images) == 2 + 2 + 2  # two plots; HR, bicubic and two runs' crops
    assert all(complete and width > 0 for _, complete, width in images), images
    assert page.console_errors() == []


def test_table_has_one_row_per_run_with_the_numbers_of_its_summary(
    page: DevTools, sweep: Path
) -> None:
    rows = table_rows(page)
    assert sorted(row["run"] for row in rows) == ["0", "1"]
    for row in rows:
        summary = summary_of(sweep / row["run"])
        assert int(row["params"]) == summary["params"]
        assert int(row["steps"]) == summary["steps"]
        assert float(row["wall_s"]) == summary["wall_s"]
        assert float(row[PSNR]) == summary["metrics"][PSNR]
        assert float(row["val/Set5/ssim"]) == summary["metrics"]["val/Set5/ssim"]
        assert row["status"] == "completed"


def test_clicking_the_psnr_header_sorts_the_rows_by_psnr(page: DevTools) -> None:
    header = page.evaluate(
        f"""(() => {{
          const th = Array.from(document.querySelectorAll("#comparison th"))
                          .find(th => th.textContent === "{PSNR}");
          th.scrollIntoView();
          const box = th.getBoundingClientRect();
          return [box.x + box.width / 2, box.y + box.height / 2];
        }})()"""
    )
    psnr = {row["run"]: float(row[PSNR]) for row in table_rows(page)}

    page.click(*header)
    ascending = [row["run"] for row in table_rows(page)]
    page.click(*header)
    descending = [row["run"] for row in table_rows(page)]

    assert ascending == sorted(psnr, key=psnr.get)
    assert descending == sorted(psnr, key=psnr.get, reverse=True)
    assert page.console_errors() == []


def test_screenshot_writes_a_png_of_the_rendered_page(
    chromium: str, report: Path, tmp_path: Path
) -> None:
    screenshot(report, tmp_path / "report.png", width=1280, height=900)
    with Image.open(tmp_path / "report.png") as image:
        assert image.size == (1280, 900)
        assert len(set(image.convert("L").getdata())) > 50  # the page, not a blank canvas


def test_many_settings_put_the_metrics_first_and_the_settings_past_three_under_a_fold(
    tmp_path: Path,
) -> None:
    comparison = compare_runs(load_config([str(runs_of_many_settings(tmp_path)), "html=true"]))
    page = (tmp_path / "report.html").read_text()

    main, folded = re.findall(r'<table class="sortable" id="(\w+)"><thead><tr>(.*?)</tr>', page)
    headers = re.findall(r">([^<>]+)</th>", main[1])
    assert main[0] == "comparison" and headers[:4] == ["run", PSNR, "val/Set5/ssim", "status"]
    assert headers[-3:] == comparison.setting_columns[:3]
    assert folded[0] == "settings"
    assert re.findall(r">([^<>]+)</th>", folded[1]) == ["run", *comparison.setting_columns]
    assert "<details><summary>All 9 settings that differ</summary>" in page
    assert 'title="/home/someone/projects/super-resolution/datasets/DIV2K/DIV2K_train_HR_0"' in page
