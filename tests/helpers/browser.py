"""Headless Chromium for the browser tests (and the README's screenshots), launched here only: a
local page in, a PNG out (`screenshot`), or a page driven over the DevTools protocol
(`chromium_page`). No network; a test skips where Chromium is not installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from srlab.utils.files import atomic_path

# Headless Chromium that renders a local file and nothing else: no sandbox (CI runs as root), no
# GPU, no background requests.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
INSTALL_HINT = "chromium not installed: run .ci/install_chromium.sh"
START_TIMEOUT_S = 60


def find_chromium() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """Chromium's path; the test skips where it is not installed."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(INSTALL_HINT)
    return chromium


def chromium_command(profile: str | Path, width: int, height: int, *arguments: str) -> list[str]:
    """Headless Chromium with a throwaway profile and a `width` x `height` window."""
    return [
        require_chromium(),
        *HEADLESS_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        *arguments,
    ]


def screenshot(
    html_path: str | Path, png_path: str | Path, width: int = 1280, height: int = 1600
) -> None:
    """A PNG of the page's first `width` x `height` pixels as headless Chromium renders it."""
    with atomic_path(Path(png_path).resolve()) as tmp, tempfile.TemporaryDirectory() as profile:
        page = Path(html_path).resolve().as_uri()
        subprocess.run(
            chromium_command(profile, width, height, f"--screenshot={tmp}", page),
            check=True,
            capture_output=True,
            timeout=120,
        )


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


@contextmanager
def chromium_page(profile: Path, width: int = 1280, height: int = 1000) -> Iterator[DevTools]:
    """A fresh headless Chromium on about:blank, driven over its DevTools protocol, with the
    Page, Runtime and Log events on (console_errors reads them) and none recorded yet."""
    websocket = pytest.importorskip("websocket", reason="websocket-client (dev dependency) missing")
    command = chromium_command(profile, width, height, "--remote-debugging-port=0", "about:blank")
    log = profile / "stderr.txt"
    with log.open("w") as stderr:
        browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        # Chromium picks a free port and says which on its stderr.
        deadline = time.time() + START_TIMEOUT_S
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
        yield devtools
        devtools.socket.close()
    finally:
        browser.terminate()
        browser.wait(timeout=30)
