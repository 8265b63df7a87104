"""TensorBoard and MLflow beside W&B, as a user sees them: a real 2-job sweep logged to both at
once (MLflow told of a tracking server that does not answer, so its runs go to the local store),
read back with each tool's own reader, and `python -m srlab.dashboard logger=tensorboard` opened
in headless Chromium. Each part skips when its optional package is not installed.

SRLAB_README_SCREENSHOTS=1 also writes the README's experiments/dashboards/tensorboard*.png."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TINY_JOB, run_module
from helpers.browser import DevTools, chromium_page, require_chromium
from srlab.dashboard import choose_port, store_of
from srlab.training.loggers import image_name
from srlab.training.loggers.mlflow import local_store_uri
from srlab.training.loggers.tensorboard import TensorBoardLogger, run_folder
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic
from srlab.utils.hydra import compose_config

LOGGERS = [name for name in ("tensorboard", "mlflow") if importlib.util.find_spec(name)]
UNANSWERED = "http://127.0.0.1:9"  # the discard port: nothing listens there
PSNR, SSIM = "val/Set5/psnr", "val/Set5/ssim"
RUNS = {"0": "n_resblocks=1", "1": "n_resblocks=2"}  # job -> run name (what the sweep varies)


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m srlab.train -m` of 2 tiny jobs, logger=[tensorboard,mlflow] (those installed);
    the paths.log_dir it wrote."""
    if not LOGGERS:
        pytest.skip(
            "neither tensorboard nor mlflow installed: pip install 'srlab[tensorboard,mlflow]'"
        )
    log_dir = tmp_path_factory.mktemp("logs")
    unanswered = [f"logger.mlflow.tracking_uri={UNANSWERED}", "logger.mlflow.timeout_s=1"]
    run_module(
        "srlab.train",
        "-m",
        *TINY_JOB,
        "model.n_resblocks=1,2",
        "trainer.log_every_n_steps=2",  # losses and the learning rate are logged too
        f"logger=[{','.join(LOGGERS)}]",
        *(unanswered if "mlflow" in LOGGERS else []),
        f"paths.log_dir={log_dir}",
    )
    return log_dir


def sweep_of(log_dir: Path) -> Path:
    (sweep,) = (log_dir / "train" / "multiruns").iterdir()
    return sweep


def summary_of(log_dir: Path, job: str) -> dict:
    return json.loads((sweep_of(log_dir) / job / "summary.json").read_text())


# --- TensorBoard ------------------------------------------------------------------------------
def event_files(log_dir: Path, run_name: str):
    """The run's event files, read with TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = log_dir / "tensorboard" / sweep_of(log_dir).name / run_name
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    return events.Reload()


def test_tensorboard_has_a_folder_per_sweep_and_in_it_one_per_run(log_dir: Path) -> None:
    pytest.importorskip("tensorboard")
    sweep_folder = log_dir / "tensorboard" / sweep_of(log_dir).name
    assert sorted(path.name for path in sweep_folder.iterdir()) == sorted(RUNS.values())


def test_tensorboard_runs_hold_psnr_losses_lr_and_comparison_images(log_dir: Path) -> None:
    pytest.importorskip("tensorboard")
    for job, run_name in RUNS.items():
        events = event_files(log_dir, run_name)
        scalars, images = events.Tags()["scalars"], events.Tags()["images"]
        assert {"train/loss", "train/loss_l1", "train/lr", PSNR, SSIM} <= set(scalars)
        final = summary_of(log_dir, job)["history"][-1][PSNR]
        assert events.Scalars(PSNR)[-1].value == pytest.approx(final, rel=1e-6)  # float32
        assert images and all(tag.startswith("val/comparisons/Set5/") for tag in images)
        strip = events.Images(images[0])[-1]
        assert strip.width > 3 * strip.height  # LR | bicubic | SR | HR side by side


def test_tensorboard_hparams_hold_the_config_and_parameter_count(log_dir: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import metadata

    for job, run_name in RUNS.items():
        content = event_files(log_dir, run_name).PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(
            content[metadata.SESSION_START_INFO_TAG]
        )
        assert start.hparams["model/n_resblocks"].number_value == int(run_name[-1])
        assert start.hparams["params"].number_value == summary_of(log_dir, job)["params"]
        assert "paths/output_dir" not in start.hparams  # where a run writes is no setting


# --- MLflow -----------------------------------------------------------------------------------
@pytest.fixture
def mlflow_runs(log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The sweep's MLflow runs by name, found with mlflow.search_runs in the local store."""
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", local_store_uri(log_dir / "mlflow"))
    experiment = f"srlab/{sweep_of(log_dir).name}"
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list")
    return {run.info.run_name: run for run in runs}


def test_an_unanswered_mlflow_server_warns_once_and_training_goes_on(log_dir: Path) -> None:
    pytest.importorskip("mlflow")
    for job in RUNS:
        assert summary_of(log_dir, job)["status"] == "completed"
        job_log = (sweep_of(log_dir) / job / "train.log").read_text()
        assert job_log.count(f"tracking server {UNANSWERED} did not answer") == 1


def test_mlflow_search_runs_finds_both_runs_with_metrics_params_and_tags(
    log_dir: Path, mlflow_runs: dict
) -> None:
    assert set(mlflow_runs) == set(RUNS.values())
    for job, run_name in RUNS.items():
        run, summary = mlflow_runs[run_name], summary_of(log_dir, job)
        assert run.info.status == "FINISHED"
        assert run.data.params["model/n_resblocks"] == run_name[-1]
        assert run.data.params["params"] == str(summary["params"])
        assert {"train/loss", "train/loss_l1", "train/lr"} <= set(run.data.metrics)
        assert run.data.metrics[PSNR] == pytest.approx(summary["history"][-1][PSNR])
        assert run.data.tags["group"] == sweep_of(log_dir).name
        assert run.data.tags["job_type"] == "sweep"
        assert f"model.{run_name}" in run.data.tags["overrides"].split()


def test_mlflow_runs_hold_the_comparison_images(mlflow_runs: dict) -> None:
    from mlflow import MlflowClient

    for run in mlflow_runs.values():
        images = [a.path for a in MlflowClient().list_artifacts(run.info.run_id, "images")]
        assert any(re.match(r"images/val~comparisons~Set5~.*\.png$", path) for path in images)


# --- pieces -----------------------------------------------------------------------------------
def test_a_run_name_taken_in_the_folder_gets_a_suffix_and_no_slash(tmp_path: Path) -> None:
    (tmp_path / "n_resblocks=1").mkdir()
    assert run_folder(tmp_path, "n_resblocks=1") == "n_resblocks=1-2"
    assert run_folder(tmp_path, "train_dir=/data/x") == "train_dir=_data_x"


def test_image_names_are_what_precedes_the_caption_colon() -> None:
    assert image_name("Set5/baby: LR | bicubic | SR | HR") == "Set5/baby"


def test_a_logger_whose_package_is_missing_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from srlab.training import loggers

    monkeypatch.setattr(loggers.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SRLabError, match=r"srlab\[tensorboard\]"):
        TensorBoardLogger(save_dir=str(tmp_path))


def test_the_dashboard_reads_its_store_from_the_logger_config(tmp_path: Path) -> None:
    for logger, folder in (
        ("wandb", "wandb"),
        ("tensorboard", "tensorboard"),
        ("mlflow", "mlflow"),
    ):
        cfg = compose_config("dashboard", [f"logger={logger}", f"paths.log_dir={tmp_path}"])
        assert store_of(cfg) == (logger, tmp_path / folder)
    with pytest.raises(SRLabError, match="one dashboard at a time"):
        store_of(compose_config("dashboard", ["logger=[wandb,tensorboard]"]))


def test_the_dashboard_port_is_the_usual_one_unless_taken() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        assert choose_port("127.0.0.1", None, busy) != busy
    assert choose_port("127.0.0.1", 6123, 6006) == 6123


def test_the_dashboard_without_runs_says_how_to_make_some(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "srlab.dashboard",
            "logger=tensorboard",
            f"paths.log_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert "train with logger=tensorboard first" in completed.stderr


# --- the dashboard in a browser ---------------------------------------------------------------
@contextmanager
def dashboard(logger: str, log_dir: Path, logs: Path) -> Iterator[str]:
    """`python -m srlab.dashboard logger=<logger>` over `log_dir`; the address it prints."""
    with (logs / "dashboard.err").open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "srlab.dashboard", f"logger={logger}", "port=0"]
            + [f"paths.log_dir={log_dir}"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        printed = ""  # up to the address (mlflow ui prints a line of its own first)
        while not (address := re.search(r"over .*: (http://127\.0\.0\.1:\d+/)", printed)):
            line = process.stdout.readline()
            assert line, printed + (logs / "dashboard.err").read_text()[-2000:]
            printed += line
        yield address.group(1)
    finally:
        process.terminate()  # the dashboard stops its server on the way out
        process.wait(timeout=60)


def ask(url: str, body: dict | None = None, **query: str) -> dict:
    """GET `url` with `query`, or POST it `body` as JSON; the JSON answer."""
    request = urllib.request.Request(
        f"{url}?{urllib.parse.urlencode(query)}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with no_proxy.open(request, timeout=60) as answer:
        return json.load(answer)


@pytest.mark.slow  # mlflow ui takes ~25-35 s to start on 2 cores
def test_the_mlflow_dashboard_serves_both_runs_of_the_sweep(log_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    if importlib.util.find_spec("flask") is None:
        pytest.skip("MLflow's UI comes with the full mlflow package, not mlflow-skinny")
    with dashboard("mlflow", log_dir, tmp_path) as address:
        api = f"{address}ajax-api/2.0/mlflow"  # what the UI's pages ask
        name = f"srlab/{sweep_of(log_dir).name}"
        experiment = ask(f"{api}/experiments/get-by-name", experiment_name=name)["experiment"]
        runs = ask(f"{api}/runs/search", {"experiment_ids": [experiment["experiment_id"]]})
    assert sorted(run["info"]["run_name"] for run in runs["runs"]) == sorted(RUNS.values())
    tags = {tag["key"]: tag["value"] for tag in experiment["tags"]}
    assert tags["mlflow.experimentKind"] == "custom_model_development"  # opens on its runs


# All the text a user sees, shadow roots included (TensorBoard's HParams tab is Polymer).
PAGE_TEXT = """(() => {
  const text = [];
  const walk = node => {
    if (["STYLE", "SCRIPT", "NOSCRIPT"].includes(node.nodeName)) return;
    if (node.nodeType === Node.TEXT_NODE) text.push(node.textContent);
    if (node.shadowRoot) walk(node.shadowRoot);
    node.childNodes.forEach(walk);
  };
  if (document.body) walk(document.body);  // null while a navigation starts
  return text.join(" ");
})()"""
# Type a regex into the time series' tag filter, as a user would.
FILTER_TAGS = """(regex => {
  const box = document.querySelector('input[placeholder="Filter tags (regex)"]');
  box.value = regex;
  box.dispatchEvent(new Event("input", {bubbles: true}));
})(%s)"""
# Tick exactly these columns in the HParams tab's left pane (it shows the first five metrics in
# name order: epoch and train/* before val/*).
SHOW_COLUMNS = """(columns => {
  const walk = node => {
    if (node.nodeName === "PAPER-CHECKBOX" && /(hparam|metric)-checkbox/.test(node.className)) {
      if (node.checked !== columns.includes(node.textContent.trim())) node.click();
    }
    if (node.shadowRoot) walk(node.shadowRoot);
    node.childNodes.forEach(walk);
  };
  walk(document.body);
})(%s)"""


def wait_for_text(page: DevTools, wanted: list[str], timeout_s: float = 90) -> None:
    """Until each of `wanted` is on the page, whitespace aside (TensorBoard sets a card's title
    as `val/Set5` `/psnr`)."""
    deadline = time.time() + timeout_s
    compact = [re.sub(r"\s+", "", text) for text in wanted]
    while True:
        seen = re.sub(r"\s+", "", page.evaluate(PAGE_TEXT))
        if all(text in seen for text in compact):
            return
        assert time.time() < deadline, f"{wanted} not on the page; it shows: {seen[:2000]}"
        time.sleep(0.5)


def save_screenshot(page: DevTools, path: Path) -> None:
    png = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    write_atomic(path, png)
    if os.environ.get("SRLAB_README_SCREENSHOTS"):
        write_atomic(REPO_ROOT / "experiments" / "dashboards" / path.name, png)


def test_the_tensorboard_dashboard_lists_both_runs_and_their_settings_in_chromium(
    log_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorboard")
    require_chromium()
    runs = [f"{sweep_of(log_dir).name}/{name}" for name in RUNS.values()]
    profile = tmp_path / "chromium"
    profile.mkdir()
    with (
        dashboard("tensorboard", log_dir, tmp_path) as address,
        chromium_page(profile, height=900) as page,
    ):
        page.call("Page.navigate", url=f"{address}#timeseries")
        wait_for_text(page, runs)  # the run selector
        page.evaluate(FILTER_TAGS % json.dumps(f"^{PSNR}$|comparisons"))
        wait_for_text(page, [PSNR, "val/comparisons/Set5/"])  # the charts' and images' titles
        save_screenshot(page, tmp_path / "tensorboard.png")

        page.call("Page.navigate", url=f"{address}#hparams")
        wait_for_text(page, ["model/n_resblocks", PSNR])
        page.evaluate(SHOW_COLUMNS % json.dumps(["model/n_resblocks", "params", PSNR, SSIM]))
        wait_for_text(page, [str(summary_of(log_dir, job)["params"]) for job in RUNS])
        save_screenshot(page, tmp_path / "tensorboard_hparams.png")
    assert (tmp_path / "tensorboard.png").stat().st_size > 10_000  # a page, not a blank canvas
