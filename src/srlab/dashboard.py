"""`python -m srlab.dashboard [logger=wandb|tensorboard|mlflow] [port=N]`: one place to look at
every local run of every sweep. TensorBoard (over logs/tensorboard; its HParams tab sets a sweep's
settings against each run's final PSNR) and MLflow's UI (over the local store logs/mlflow) are
served on localhost: the address is printed, and the server runs until Ctrl-C. W&B has no local
web app for offline runs: `logger=wandb` (the default, as in training) opens its terminal
dashboard, `wandb leet`, over logs/wandb. The settings are conf/dashboard.yaml's.
"""

from __future__ import annotations

import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from omegaconf import DictConfig

from srlab.utils.entry import compose_entry_point
from srlab.utils.errors import SRLabError

USAGE = "python -m srlab.dashboard [logger=wandb|tensorboard|mlflow] [port=N]"
EXAMPLES = (
    "python -m srlab.dashboard                                      # W&B's terminal dashboard",
    "python -m srlab.dashboard logger=tensorboard                   # on localhost",
    "python -m srlab.dashboard logger=mlflow port=5001",
)
TITLES = {"wandb": "W&B", "tensorboard": "TensorBoard", "mlflow": "MLflow"}
DEFAULT_PORTS = {"tensorboard": 6006, "mlflow": 5000}
START_TIMEOUT_S = 180  # MLflow's first start on a new store migrates its database
# MLflow's UI starts six job-runner processes for its GenAI features by default: none needed here.
ENVIRONMENT = {"mlflow": {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}}


def console_script(name: str) -> str:
    """The command `name` installed beside this Python (the venv's), else the one on PATH."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def dashboard_command(logger: str, store: Path, host: str, port: int) -> list[str]:
    if logger == "tensorboard":
        where = ["--logdir", str(store), "--host", host, "--port", str(port)]
        return [sys.executable, "-m", "tensorboard.main", *where]
    if logger == "mlflow":
        # here, not at the top: the other dashboards start without importing Lightning
        from srlab.training.loggers.mlflow import local_artifact_root, local_store_uri

        return [
            console_script("mlflow"),
            "ui",
            *("--backend-store-uri", local_store_uri(store)),
            *("--default-artifact-root", local_artifact_root(store)),
            *("--host", host, "--port", str(port), "--workers", "1"),
        ]
    return [console_script("wandb"), "leet", str(store)]


def check_dashboard(logger: str, store: Path) -> None:
    """The dashboard is installed (MLflow's UI: the full `mlflow`, not mlflow-skinny) and has
    runs to show."""
    if logger not in TITLES:
        raise SRLabError(
            f"logger={logger!r}: choose one of {', '.join(TITLES)} (conf/dashboard.yaml)"
        )
    try:
        importlib.metadata.distribution(logger)
    except importlib.metadata.PackageNotFoundError:
        raise SRLabError(
            f"the {TITLES[logger]} dashboard needs the {logger} package: "
            f"pip install 'srlab[{logger}]'"
        ) from None
    if not store.is_dir():
        raise SRLabError(
            f"no {TITLES[logger]} runs under {store} yet: train with logger={logger} first "
            f"(python -m srlab.train logger={logger}), or pass the paths.log_dir that holds them"
        )


def choose_port(host: str, port: int | None, default: int) -> int:
    """`port` as given; None: `default`, or a free one when something listens there; 0: a free
    one."""
    if port:
        return port
    for candidate in (default, 0) if port is None else (0,):
        with socket.socket() as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise SRLabError(f"no free port on {host}; pass port=N")


def wait_until_listening(process: subprocess.Popen, host: str, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SRLabError(
                f"`{' '.join(process.args)}` exited with status {process.returncode} before it "
                "served anything (its messages are above)"
            )
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SRLabError(f"nothing answered on {host}:{port} within {START_TIMEOUT_S} s")


def stop(process: subprocess.Popen) -> None:
    """End the dashboard and what it started (mlflow ui runs its server as a child): the whole
    process group it leads."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return  # the group is gone
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def open_dashboard(
    logger: str, store: Path, host: str = "127.0.0.1", port: int | None = None
) -> int:
    """Serve `logger`'s dashboard over `store` until Ctrl-C (or SIGTERM); its exit status."""
    check_dashboard(logger, store)
    if logger == "wandb":
        print(f"W&B's terminal dashboard over {store} (`wandb sync` uploads offline runs)")
        return subprocess.run(dashboard_command(logger, store, host, 0)).returncode
    port = choose_port(host, port, DEFAULT_PORTS[logger])
    # its own process group, so that stop() ends the server's children too
    process = subprocess.Popen(
        dashboard_command(logger, store, host, port),
        env={**os.environ, **ENVIRONMENT.get(logger, {})},
        start_new_session=True,
    )
    try:
        wait_until_listening(process, host, port)
        print(
            f"{TITLES[logger]} over {store}: http://{host}:{port}/  (Ctrl-C stops it)", flush=True
        )
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(process)


def store_of(cfg: DictConfig) -> tuple[str, Path]:
    """(logger, where it keeps its runs) of the one logger that the config selects."""
    if len(cfg.logger) != 1:
        raise SRLabError(f"logger={','.join(cfg.logger) or 'none'}: one dashboard at a time")
    ((logger, node),) = cfg.logger.items()
    if logger not in TITLES:
        choices = ", ".join(TITLES)
        raise SRLabError(f"logger={logger} has no dashboard: choose one of {choices}")
    if logger == "mlflow" and node.get("tracking_uri"):
        raise SRLabError(f"these runs go to {node.tracking_uri}: open its UI there")
    store = Path(str(node.save_dir))
    return logger, store / "wandb" if logger == "wandb" else store  # W&B adds wandb/


def dashboard(cfg: DictConfig) -> int:
    """Serve the dashboard of the one logger `cfg` selects; its exit status."""
    logger, store = store_of(cfg)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `finally` stops the server
    return open_dashboard(logger, store, cfg.host, cfg.port)


# Not @hydra.main: a server until Ctrl-C is no job (no run directory); its exit status is ours.
main = compose_entry_point("dashboard", dashboard, USAGE, __doc__, EXAMPLES)


if __name__ == "__main__":
    main()
