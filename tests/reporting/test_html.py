"""report.html of a real 2-run sweep, opened in headless Chromium over the DevTools protocol: no
console errors, the numbers of summary.json, every image loaded, sorting by PSNR."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from helpers.browser import HEADLESS_FLAGS, INSTALL_HINT, find_chromium, screenshot
from srlab.compare import compare as compare_runs
from srlab.compare import load_config
from test_compare import summary_of

PSNR = "val/Set5/psnr"


class DevTools:
    """Just enough of the Chrome DevTools Protocol: calls, and the events that arrive meanwhile."""

    def __init__(self, socket: Any):  # a websocket-client connection to a page target
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self.last_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.last_id:
                assert "error" not in message, message["error"]
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        while not any(message.get("method") == event for message in self.events):
            self.events.append(json.loads(self.socket.recv()))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def console_errors(self) -> list[str]:
        errors = []
        for message in self.events:
            method, params = message.get("method"), message.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                errors.append(" ".join(str(arg.get("value")) for arg in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(details.get("exception", {}).get("description") or details["text"])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
        return errors


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip(INSTALL_HINT)
    return path


@pytest.fixture(scope="module")
def report(sweep: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("report")
    compare_runs(load_config([str(sweep), f"output={output}", "html=true"]))
    return output / "report.html"


@pytest.fixture(scope="module")
def page(
    chromium: str, report: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevTools]:
    """The report loaded in a fresh headless Chromium; its DevTools port read from its stderr."""
    websocket = pytest.importorskip("websocket", reason="websocket-client (dev dependency) missing")
    profile = tmp_path_factory.mktemp("chromium")
    log = profile / "stderr.txt"
    with log.open("w") as stderr:
        browser = subprocess.Popen(
            [
                chromium,
                *HEADLESS_FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1280,1000",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.time() + 60
        while not (port := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", log.read_text())):
            assert browser.poll() is None and time.time() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(f"http://127.0.0.1:{port.group(1)}/json/list", timeout=30) as answer:
            targets = json.load(answer)
        url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        # no Origin header: Chromium refuses DevTools connections from unlisted origins
        devtools = DevTools(websocket.create_connection(url, timeout=60, suppress_origin=True))
        for domain in ("Page", "Runtime", "Log"):
            devtools.call(f"{domain}.enable")
        devtools.events.clear()  # what about:blank did
        devtools.call("Page.navigate", url=report.resolve().as_uri())
        devtools.wait_for("Page.loadEventFired")
        yield devtools
        devtools.socket.close()
    finally:
        browser.terminate()
        browser.wait(timeout=30)


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


def test_report_opens_without_console_errors_and_every_image_loads(page: DevTools) -> None:
    images = page.evaluate(
        "Array.from(document.images, image => [image.alt, image.complete, image.naturalWidth])"
    )
    assert len(images) == 2 + 2 + 2  # two plots; HR, bicubic and two runs' crops
    assert all(complete and width > 0 for _, complete, width in images), images
    assert page.console_errors() == []


def test_table_has_one_row_per_run_with_the_numbers_of_its_summary(
    page: DevTools,
    sweep: Path,  # noqa: F811
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
