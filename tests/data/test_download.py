"""DIV2K download against a local HTTP server that serves small zips in the official layout."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from srlab.data import download
from srlab.data.download import ARCHIVES, MARKER, Archive, download_div2k
from srlab.utils.errors import SRLabError


def png(seed: int, size: int = 24) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def build_zip(members: dict[str, bytes]) -> bytes:
    """Stored (uncompressed), so a member's bytes appear verbatim and can be damaged in place."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# Images of each archive, under the folder the official zip uses (the zip name minus _X2).
IMAGES = {
    "DIV2K_train_HR": {"DIV2K_train_HR/0001.png": png(1), "DIV2K_train_HR/0002.png": png(2)},
    "DIV2K_valid_HR": {"DIV2K_valid_HR/0801.png": png(801)},
    "DIV2K_train_LR_bicubic_X2": {
        "DIV2K_train_LR_bicubic/X2/0001x2.png": png(11, 12),
        "DIV2K_train_LR_bicubic/X2/0002x2.png": png(12, 12),
    },
    "DIV2K_valid_LR_bicubic_X2": {"DIV2K_valid_LR_bicubic/X2/0801x2.png": png(811, 12)},
}
ZIPS = {name: build_zip(members) for name, members in IMAGES.items()}


def table(zips: dict[str, bytes], images: dict[str, dict[str, bytes]] = IMAGES) -> list[Archive]:
    """The official archive table with the sizes, SHA-256 and image counts of the test zips."""
    return [
        dataclasses.replace(
            archive,
            size=len(zips[archive.name]),
            sha256=hashlib.sha256(zips[archive.name]).hexdigest(),
            n_images=len(images[archive.name]),
        )
        for archive in ARCHIVES
        if archive.name in zips
    ]


class IgnoresRange(BaseHTTPRequestHandler):
    """Serves `server.files` by name, always whole (200); records (path, Range header).

    `server.cut_after` bytes into the next answer, the connection drops (once).
    """

    honours_range = False

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        state = self.server
        requested = self.headers.get("Range")
        state.requests.append((self.path, requested))
        data = state.files.get(self.path.rsplit("/", 1)[-1])
        if data is None:
            self.send_error(404)
            return
        start = 0
        if requested and self.honours_range:
            start = int(requested.removeprefix("bytes=").rstrip("-"))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if state.cut_after is not None:
            body, state.cut_after = body[: state.cut_after], None
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class HonoursRange(IgnoresRange):
    """Answers `Range: bytes=N-` with 206 and the bytes from N on."""

    honours_range = True


def serve(handler: type[BaseHTTPRequestHandler], files: dict[str, bytes]):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.files = {f"{name}.zip": data for name, data in files.items()}
    server.requests = []
    server.cut_after = None
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}/cvl/DIV2K"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server


def serving(handler):
    server = serve(handler, ZIPS)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server():
    yield from serving(HonoursRange)


@pytest.fixture
def server_ignoring_range():
    yield from serving(IgnoresRange)


def fetch(root: Path, server, **kwargs) -> list[Path]:
    kwargs.setdefault("scales", (2,))
    kwargs.setdefault("archives", table(ZIPS))
    kwargs.setdefault("progress", False)
    return download_div2k(root, base_url=server.base_url, **kwargs)


def test_download_puts_archives_in_standard_layout(tmp_path, server):
    folders = fetch(tmp_path, server, progress=True)

    div2k = tmp_path / "DIV2K"
    assert folders == [
        div2k / "DIV2K_train_HR",
        div2k / "DIV2K_valid_HR",
        div2k / "DIV2K_train_LR_bicubic" / "X2",
        div2k / "DIV2K_valid_LR_bicubic" / "X2",
    ]
    for members in IMAGES.values():
        for name, data in members.items():
            assert (div2k / name).read_bytes() == data
    assert all((folder / MARKER).is_file() for folder in folders)
    assert list((tmp_path / ".downloads").iterdir()) == []  # zips deleted once unzipped
    assert sorted(path for path, _ in server.requests) == sorted(
        f"/cvl/DIV2K/{name}.zip" for name in ZIPS
    )


def test_second_call_downloads_nothing(tmp_path, server):
    fetch(tmp_path, server)
    server.requests.clear()

    fetch(tmp_path, server)

    assert server.requests == []


def test_partial_download_resumes_with_range_request(tmp_path, server):
    data = ZIPS["DIV2K_train_HR"]
    half = len(data) // 2
    (tmp_path / ".downloads").mkdir()
    (tmp_path / ".downloads" / "DIV2K_train_HR.zip.part").write_bytes(data[:half])

    fetch(tmp_path, server, parts=("train_hr",), keep_archives=True)

    assert server.requests == [("/cvl/DIV2K/DIV2K_train_HR.zip", f"bytes={half}-")]
    assert (tmp_path / ".downloads" / "DIV2K_train_HR.zip").read_bytes() == data
    assert (tmp_path / "DIV2K" / "DIV2K_train_HR" / "0002.png").is_file()


def test_server_ignoring_range_restarts_from_the_start(tmp_path, server_ignoring_range):
    data = ZIPS["DIV2K_train_HR"]
    (tmp_path / ".downloads").mkdir()
    (tmp_path / ".downloads" / "DIV2K_train_HR.zip.part").write_bytes(data[:100])

    fetch(tmp_path, server_ignoring_range, parts=("train_hr",), keep_archives=True)

    assert server_ignoring_range.requests == [("/cvl/DIV2K/DIV2K_train_HR.zip", "bytes=100-")]
    assert (tmp_path / ".downloads" / "DIV2K_train_HR.zip").read_bytes() == data


def test_dropped_connection_is_retried_from_where_it_stopped(tmp_path, server):
    server.cut_after = 1000

    fetch(tmp_path, server, parts=("valid_hr",), keep_archives=True, retries=1)

    assert [header for _, header in server.requests] == [None, "bytes=1000-"]
    assert (tmp_path / ".downloads" / "DIV2K_valid_HR.zip").read_bytes() == ZIPS["DIV2K_valid_HR"]


def test_wrong_sha256_is_rejected_and_the_file_deleted(tmp_path, server):
    archives = [
        dataclasses.replace(a, sha256="0" * 64) if a.name == "DIV2K_valid_HR" else a
        for a in table(ZIPS)
    ]

    with pytest.raises(SRLabError, match=r"DIV2K_valid_HR\.zip.*expected SHA-256 0{64}, got"):
        fetch(tmp_path, server, parts=("valid_hr",), archives=archives)

    assert list((tmp_path / ".downloads").iterdir()) == []
    assert not (tmp_path / "DIV2K" / "DIV2K_valid_HR").exists()


def test_wrong_size_is_rejected(tmp_path, server):
    archives = [dataclasses.replace(a, size=a.size + 1, sha256=None) for a in table(ZIPS)]

    with pytest.raises(SRLabError, match=r"DIV2K_valid_HR\.zip.*expected \d+ bytes, got \d+"):
        fetch(tmp_path, server, parts=("valid_hr",), archives=archives)

    assert list((tmp_path / ".downloads").iterdir()) == []


def test_bad_crc_is_rejected_even_when_the_sha256_matches(tmp_path):
    data = bytearray(ZIPS["DIV2K_valid_HR"])
    data[data.find(IMAGES["DIV2K_valid_HR"]["DIV2K_valid_HR/0801.png"]) + 100] ^= 0xFF
    zips = {"DIV2K_valid_HR": bytes(data)}
    server = serve(HonoursRange, zips)
    try:
        with pytest.raises(SRLabError, match=r"DIV2K_valid_HR\.zip.*0801\.png fails its CRC"):
            fetch(tmp_path, server, parts=("valid_hr",), archives=table(zips))
    finally:
        server.shutdown()
        server.server_close()

    assert list((tmp_path / ".downloads").iterdir()) == []
    assert not (tmp_path / "DIV2K" / "DIV2K_valid_HR").exists()


def test_server_down_names_the_url_and_where_to_put_the_file(tmp_path):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = SimpleNamespace(base_url=f"http://127.0.0.1:{port}/cvl/DIV2K")

    with pytest.raises(SRLabError) as error:
        fetch(tmp_path, down, parts=("valid_hr",), retries=0)

    message = str(error.value)
    assert f"http://127.0.0.1:{port}/cvl/DIV2K/DIV2K_valid_HR.zip" in message
    assert str(tmp_path / ".downloads") in message
    assert str(tmp_path / "DIV2K" / "DIV2K_valid_HR") in message


def test_missing_archive_on_the_server_is_an_error(tmp_path, server):
    del server.files["DIV2K_valid_HR.zip"]

    with pytest.raises(SRLabError, match=r"DIV2K_valid_HR\.zip: HTTP 404"):
        fetch(tmp_path, server, parts=("valid_hr",))


def test_interrupted_extraction_leaves_no_partial_folder(tmp_path, server, monkeypatch):
    class Killed(Exception):
        pass

    extract = zipfile.ZipFile.extract
    calls = []

    def extract_then_die(self, member, path=None, pwd=None):
        calls.append(member)
        if len(calls) > 1:
            raise Killed
        return extract(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", extract_then_die)
    with pytest.raises(Killed):
        fetch(tmp_path, server, parts=("train_hr",))

    div2k = tmp_path / "DIV2K"
    assert list(div2k.iterdir()) == []  # neither DIV2K_train_HR nor its temporary folder
    assert (tmp_path / ".downloads" / "DIV2K_train_HR.zip").is_file()  # verified, kept

    monkeypatch.undo()
    server.requests.clear()
    fetch(tmp_path, server, parts=("train_hr",))

    assert server.requests == []
    assert sorted(p.name for p in (div2k / "DIV2K_train_HR").iterdir()) == [
        MARKER,
        "0001.png",
        "0002.png",
    ]


def test_flat_zip_is_unpacked_into_the_standard_folder(tmp_path):
    images = {"DIV2K_train_LR_bicubic_X2": {"0001x2.png": png(1, 12), "0002x2.png": png(2, 12)}}
    zips = {name: build_zip(members) for name, members in images.items()}
    server = serve(HonoursRange, zips)
    try:
        fetch(tmp_path, server, parts=("train_lr",), archives=table(zips, images))
    finally:
        server.shutdown()
        server.server_close()

    folder = tmp_path / "DIV2K" / "DIV2K_train_LR_bicubic" / "X2"
    assert (folder / "0002x2.png").read_bytes() == images["DIV2K_train_LR_bicubic_X2"]["0002x2.png"]


def test_folder_unzipped_by_hand_is_kept(tmp_path, server):
    folder = tmp_path / "DIV2K" / "DIV2K_valid_HR"
    folder.mkdir(parents=True)
    (folder / "0801.png").write_bytes(png(801))

    fetch(tmp_path, server, parts=("valid_hr",))

    assert server.requests == []
    assert (folder / MARKER).is_file()


def test_incomplete_folder_is_an_error_before_any_download(tmp_path, server):
    folder = tmp_path / "DIV2K" / "DIV2K_train_HR"
    folder.mkdir(parents=True)
    (folder / "0001.png").write_bytes(png(1))

    with pytest.raises(SRLabError, match=r"DIV2K_train_HR exists with 1 images.*holds 2"):
        fetch(tmp_path, server)

    assert server.requests == []


def test_scale_without_lr_archive_is_rejected(tmp_path, server):
    with pytest.raises(SRLabError, match=r"scale 8.*\(2, 3, 4\)"):
        fetch(tmp_path, server, scales=(8,))


def test_unknown_part_is_rejected(tmp_path, server):
    with pytest.raises(SRLabError, match=r"'test_hr'.*train_hr, valid_hr, train_lr, valid_lr"):
        fetch(tmp_path, server, parts=("test_hr",))


def test_too_little_disk_space_is_an_error_before_any_download(tmp_path, server, monkeypatch):
    monkeypatch.setattr(download.shutil, "disk_usage", lambda path: SimpleNamespace(free=10))

    with pytest.raises(SRLabError, match="not enough disk space.*paths.data_dir"):
        fetch(tmp_path, server)

    assert server.requests == []


def test_complete_part_file_is_not_downloaded_again(tmp_path, server):
    (tmp_path / ".downloads").mkdir()
    (tmp_path / ".downloads" / "DIV2K_valid_HR.zip.part").write_bytes(ZIPS["DIV2K_valid_HR"])

    fetch(tmp_path, server, parts=("valid_hr",))

    assert server.requests == []
    assert (tmp_path / "DIV2K" / "DIV2K_valid_HR" / "0801.png").is_file()
