"""Probing a logger's server before a run depends on it, each probe bounded by a timeout: a run
never waits long for a server that is not there."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlparse


def reachable(url: str, timeout_s: float = 2.0) -> bool:
    """`url`'s host takes a connection on its port (443 when it names none) within `timeout_s`."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def server_answers(uri: str, timeout_s: float) -> bool:
    """An MLflow tracking server at `uri` (http or https) answers within `timeout_s`."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True  # it answered (a login wall, say): MLflow's own calls will tell the rest
    except (OSError, ValueError):
        return False
