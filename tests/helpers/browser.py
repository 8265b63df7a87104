"""Headless Chromium for the browser tests (and the README's screenshots): a local page in, a
PNG out, no network."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

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


def find_chromium() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(
    html_path: str | Path, png_path: str | Path, width: int = 1280, height: int = 1600
) -> None:
    """A PNG of the page's first `width` x `height` pixels as headless Chromium renders it."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(INSTALL_HINT)
    with atomic_path(Path(png_path).resolve()) as tmp, tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *HEADLESS_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={tmp}",
                Path(html_path).resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
