"""`python -m srlab.upscale` on the images people have: alpha, 16 bits, gray, EXIF orientation,
ICC profiles, output formats, files, folders and globs (small Set5 crops, a tiny random net)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
import torch
from PIL import Image, ImageCms, ImageOps
from rich.progress import Progress, Task

import srlab
from srlab import upscale as upscale_module
from srlab.data.photos import encode_png16, png_header, read_photo, write_photo
from srlab.ops.imresize import imresize
from srlab.ops.inference import super_resolve
from srlab.ops.pixels import to_float, to_uint8
from srlab.upscale import ImagesPerSecond, upscale
from srlab.utils.entry import run_entry_point
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import compose_config, instantiate
from srlab.weights.loading import load_net

SET5 = Path(srlab.__file__).parent / "assets" / "Set5"
NET_CONFIG = {
    "_target_": "srlab.models.resnet_sr.ResNetSR",
    "scale": 2,
    "n_resblocks": 1,
    "n_feats": 8,
}


def crop(name: str, height: int = 24, width: int = 32, top: int = 100) -> np.ndarray:
    """A (height, width, 3) uint8 crop of a Set5 image (one with detail, not flat sky)."""
    return np.asarray(Image.open(SET5 / name).convert("RGB"))[top : top + height, 60 : 60 + width]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny x2 net in the layout srlab.train writes (training/module.py): its random weights
    make a non-trivial residual, which is all these tests need, without a training run."""
    torch.manual_seed(0)
    net = instantiate(NET_CONFIG)
    path = tmp_path_factory.mktemp("net") / "tiny.ckpt"
    state = {f"net.{key}": value for key, value in net.state_dict().items()}
    torch.save({"srlab": {"net_config": NET_CONFIG, "scale": 2}, "state_dict": state}, path)
    return path


def run(tmp_path: Path, checkpoint: Path, source: Path | str, *overrides: str) -> list[Path]:
    """`python -m srlab.upscale ckpt_path=<checkpoint> input=<source> output=<tmp>/out ...`."""
    cfg = compose_config(
        "upscale",
        [
            f"paths.output_dir={tmp_path / 'hydra'}",
            "device=cpu",
            f"ckpt_path={checkpoint}",
            f"input={source}",
            f"output={tmp_path / 'out'}",
            *overrides,
        ],
    )
    return upscale(cfg)


def net_sr(checkpoint: Path, lr: np.ndarray, top: int = 255, **options) -> torch.Tensor:
    """The net's float SR of (H, W, C) levels, as a test computes it from the known pixels."""
    unit = torch.from_numpy(lr.astype(np.float32) / top).permute(2, 0, 1)[None]
    with torch.inference_mode():
        return super_resolve(load_net(checkpoint), unit, 2, **options)[0]


def test_rgba_keeps_its_alpha_upscaled_by_the_exact_bicubic(tmp_path: Path, checkpoint: Path):
    color = crop("bird.png")
    rows, cols = np.mgrid[:24, :32]
    alpha = np.clip(255 - 12 * np.hypot(rows - 12, cols - 16), 0, 255).astype(np.uint8)  # a disc
    Image.fromarray(np.dstack([color, alpha])).save(tmp_path / "logo.png")
    [written] = run(tmp_path, checkpoint, tmp_path / "logo.png")
    out = np.asarray(Image.open(written))
    assert out.shape == (48, 64, 4)
    expected_alpha = imresize(torch.from_numpy(alpha / 255.0), scale=2).clamp(0, 1)
    assert (out[..., 3] == expected_alpha.mul(255).round().numpy().astype(np.uint8)).all()
    assert (out[..., :3] == to_uint8(net_sr(checkpoint, color))).all()  # the net saw RGB only


def test_16bit_png_comes_out_16bit_from_the_float_sr(tmp_path: Path, checkpoint: Path):
    rng = np.random.default_rng(0)
    deep = crop("butterfly.png").astype(np.uint16) * 257 + rng.integers(0, 257, (24, 32, 3))
    deep = deep.astype(np.uint16)
    cv2.imwrite(str(tmp_path / "scan.png"), deep[..., ::-1])  # OpenCV writes BGR
    [written] = run(tmp_path, checkpoint, tmp_path / "scan.png")
    out = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert out.dtype == np.uint16
    expected = net_sr(checkpoint, deep, top=65535).mul(65535).round().permute(1, 2, 0).numpy()
    assert (out == expected).all()
    assert (out % 257 != 0).mean() > 0.9  # not an 8-bit result times 257


def test_16bit_tiff_is_made_upright_once_and_stays_16bit(tmp_path: Path, checkpoint: Path):
    deep = crop("baby.png").astype(np.uint16) * 257 + 128
    orientation_6 = [(274, "H", 1, 6, False)]  # the camera was turned 90 degrees
    tifffile.imwrite(tmp_path / "scan.tif", deep, photometric="rgb", extratags=orientation_6)
    [written] = run(tmp_path, checkpoint, tmp_path / "scan.tif")
    out = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert written.name == "scan.png" and out.dtype == np.uint16 and out.shape == (64, 48, 3)
    upright = np.rot90(deep, -1)
    expected = net_sr(checkpoint, upright, top=65535).mul(65535).round().permute(1, 2, 0)
    assert (out == expected.numpy()).all()


def test_16bit_gray_with_alpha_stays_16bit_gray_with_alpha(tmp_path: Path, checkpoint: Path):
    gray = crop("head.png")[..., :1].astype(np.uint16) * 257 + 5
    alpha = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (24, 1))
    (tmp_path / "mask.png").write_bytes(encode_png16(np.dstack([gray, alpha]), None))
    [written] = run(tmp_path, checkpoint, tmp_path / "mask.png")
    assert png_header(written) == (16, 4)  # 16 bits, gray + alpha
    out = cv2.imread(str(written), cv2.IMREAD_UNCHANGED)  # OpenCV gives it as BGRA
    expected_alpha = imresize(torch.from_numpy(alpha / 65535.0), scale=2).clamp(0, 1)
    assert (out[..., 3] == expected_alpha.mul(65535).round().numpy()).all()
    expected_gray = net_sr(checkpoint, gray, top=65535).mul(65535).round()[0]
    assert (out[..., 0] == expected_gray.numpy()).all()


def test_gray_stays_gray_at_8_and_16_bits(tmp_path: Path, checkpoint: Path):
    gray = crop("head.png")[..., 1]
    Image.fromarray(gray).save(tmp_path / "gray.png")
    Image.fromarray(gray.astype(np.uint16) * 257 + 3).save(tmp_path / "gray16.png")
    written = run(tmp_path, checkpoint, tmp_path)
    modes = {path.name: Image.open(path).mode for path in written}
    assert modes == {"gray.png": "L", "gray16.png": "I;16"}
    expected = to_uint8(net_sr(checkpoint, gray[..., None]))[..., 0]
    assert (np.asarray(Image.open(written[0])) == expected).all()


def test_jpeg_with_exif_orientation_6_comes_out_upright(tmp_path: Path, checkpoint: Path):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(crop("woman.png")).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    [written] = run(tmp_path, checkpoint, tmp_path / "phone.jpg")
    upright = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "phone.jpg")))
    assert upright.shape == (32, 24, 3)
    assert (np.asarray(Image.open(written)) == to_uint8(net_sr(checkpoint, upright))).all()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_undone_as_pillow_does(tmp_path: Path, orientation: int):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(crop("bird.png")).save(tmp_path / "o.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.png")))
    assert (read_photo(tmp_path / "o.png").color == expected).all()


@pytest.mark.parametrize("format_name", ["png", "jpg", "webp"])
def test_the_icc_profile_is_carried_over(tmp_path: Path, checkpoint: Path, format_name: str):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(crop("bird.png")).save(tmp_path / "p.png", icc_profile=profile)
    deep = crop("baby.png").astype(np.uint16) * 257
    (tmp_path / "deep.png").write_bytes(encode_png16(deep, profile))
    written = run(tmp_path, checkpoint, tmp_path, f"format={format_name}")
    for path in written:
        assert Image.open(path).info.get("icc_profile") == profile, path


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_16bit_png_written_here_decodes_in_opencv(tmp_path: Path, channels: int):
    samples = np.random.default_rng(channels).integers(0, 65536, (5, 7, channels), np.uint16)
    (tmp_path / "x.png").write_bytes(encode_png16(samples, None))
    decoded = cv2.imread(str(tmp_path / "x.png"), cv2.IMREAD_UNCHANGED)
    decoded = decoded.reshape(5, 7, -1)
    if channels > 1:  # OpenCV orders color BGR(A)
        decoded = decoded[..., [2, 1, 0, 3][: decoded.shape[2]]]
    if channels == 2:  # OpenCV gives gray + alpha as RGBA
        decoded = decoded[..., [0, 3]]
    assert (decoded == samples).all()


def test_jpg_and_webp_follow_quality(tmp_path: Path, checkpoint: Path):
    Image.fromarray(crop("butterfly.png", 48, 64)).save(tmp_path / "b.png")
    for format_name, pil_name in (("jpg", "JPEG"), ("webp", "WEBP")):
        sizes = []
        for quality in (20, 95):
            [written] = run(tmp_path, checkpoint, tmp_path / "b.png", f"format={format_name}",
                            f"quality={quality}", "overwrite=true")  # fmt: skip
            assert written.suffix == f".{format_name}" and Image.open(written).format == pil_name
            sizes.append(written.stat().st_size)
        assert sizes[0] < sizes[1], format_name


def test_webp_keeps_alpha_and_jpg_refuses_transparency(tmp_path: Path, checkpoint: Path):
    alpha = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (24, 1))
    Image.fromarray(np.dstack([crop("bird.png"), alpha])).save(tmp_path / "fade.png")
    [written] = run(tmp_path, checkpoint, tmp_path / "fade.png", "format=webp")
    assert Image.open(written).mode == "RGBA"
    with pytest.raises(SRLabError, match=r"fade\.png has transparent pixels.*format=png"):
        run(tmp_path, checkpoint, tmp_path / "fade.png", "format=jpg")


def test_a_file_a_folder_and_a_glob_of_mixed_sizes(tmp_path: Path, checkpoint: Path):
    folder = tmp_path / "shots"
    folder.mkdir()
    for name, size in (("bird", (20, 28)), ("baby", (32, 24)), ("head", (17, 33))):
        Image.fromarray(crop(f"{name}.png", *size)).save(folder / f"{name}.png")
    Image.fromarray(crop("woman.png")).save(folder / "woman.jpg")
    assert [p.name for p in run(tmp_path, checkpoint, folder / "baby.png")] == ["baby.png"]
    globbed = run(tmp_path, checkpoint, folder / "*.jpg")
    assert [p.name for p in globbed] == ["woman.png"]
    written = run(tmp_path, checkpoint, folder, "overwrite=true")  # baby and woman again
    assert [p.name for p in written] == ["baby.png", "bird.png", "head.png", "woman.png"]
    for path in written:
        source = next(folder.glob(f"{path.stem}.*"))
        assert Image.open(path).size == tuple(2 * side for side in Image.open(source).size)


def test_an_output_that_would_overwrite_its_input_is_refused(tmp_path: Path, checkpoint: Path):
    Image.fromarray(crop("bird.png")).save(tmp_path / "bird.png")
    before = (tmp_path / "bird.png").read_bytes()
    with pytest.raises(SRLabError, match=r"would overwrite the input .*bird\.png"):
        run(tmp_path, checkpoint, tmp_path / "bird.png", f"output={tmp_path}")
    assert (tmp_path / "bird.png").read_bytes() == before


def test_an_earlier_result_is_kept_unless_overwrite_is_true(tmp_path: Path, checkpoint: Path):
    Image.fromarray(crop("bird.png")).save(tmp_path / "bird.png")
    [written] = run(tmp_path, checkpoint, tmp_path / "bird.png")
    written.write_bytes(b"an earlier result")
    with pytest.raises(SRLabError, match=r"1 of the 1 results are in .* already \(bird\.png\); "):
        run(tmp_path, checkpoint, tmp_path / "bird.png")
    assert written.read_bytes() == b"an earlier result"
    run(tmp_path, checkpoint, tmp_path / "bird.png", "overwrite=true")
    assert Image.open(written).size == (64, 48)


def test_two_inputs_of_one_name_are_refused(tmp_path: Path, checkpoint: Path):
    Image.fromarray(crop("bird.png")).save(tmp_path / "bird.png")
    Image.fromarray(crop("bird.png")).save(tmp_path / "bird.jpg")
    with pytest.raises(SRLabError, match=r"would all be written to .*bird\.png"):
        run(tmp_path, checkpoint, tmp_path)
    assert not (tmp_path / "out").exists()


def test_scale_is_the_checkpoints_and_another_one_is_refused(tmp_path: Path, checkpoint: Path):
    Image.fromarray(crop("bird.png")).save(tmp_path / "bird.png")
    [written] = run(tmp_path, checkpoint, tmp_path / "bird.png")  # scale: null
    assert Image.open(written).size == (64, 48)
    with pytest.raises(SRLabError, match=r"trained for x2, but scale=4 was asked"):
        run(tmp_path, checkpoint, tmp_path / "bird.png", "scale=4", "overwrite=true")


def test_self_ensemble_reaches_super_resolve(tmp_path: Path, checkpoint: Path):
    Image.fromarray(crop("bird.png")).save(tmp_path / "bird.png")
    [written] = run(tmp_path, checkpoint, tmp_path / "bird.png", "self_ensemble=true")
    expected = to_uint8(net_sr(checkpoint, crop("bird.png"), self_ensemble=True))
    assert (np.asarray(Image.open(written)) == expected).all()
    assert not (expected == to_uint8(net_sr(checkpoint, crop("bird.png")))).all()


def test_a_corrupt_input_names_the_file(tmp_path: Path, checkpoint: Path):
    buffer = io.BytesIO()
    Image.fromarray(crop("bird.png")).save(buffer, format="PNG")
    (tmp_path / "broken.png").write_bytes(buffer.getvalue()[:200])  # truncated
    with pytest.raises(SRLabError, match=r"broken\.png: cannot read this image"):
        run(tmp_path, checkpoint, tmp_path / "broken.png")


def test_a_missing_input_says_what_input_takes(tmp_path: Path, checkpoint: Path):
    with pytest.raises(SRLabError, match="an image, a folder of images or a quoted glob"):
        run(tmp_path, checkpoint, tmp_path / "photo.png")


class RecordedProgress(Progress):
    """The progress bar, not drawn: the bars it had and how far each went."""

    def __init__(self) -> None:
        super().__init__(disable=True)
        self.bars: dict[int, list] = {}  # task -> [description, total, unit, advanced]

    def add_task(self, description: str, **fields) -> int:
        task = super().add_task(description, **fields)
        self.bars[task] = [description, fields.get("total"), fields.get("unit"), 0]
        return task

    def advance(self, task_id: int, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self.bars[task_id][3] += advance


def test_a_large_image_shows_its_tiles_as_they_go(tmp_path: Path, checkpoint: Path, monkeypatch):
    Image.fromarray(crop("bird.png")).save(tmp_path / "bird.png")  # 24 x 32: 2 x 3 tiles of 16
    Image.fromarray(crop("baby.png", 12, 12)).save(tmp_path / "baby.png")  # one tile
    progress = RecordedProgress()
    monkeypatch.setattr(upscale_module, "progress_bar", lambda: progress)
    run(tmp_path, checkpoint, tmp_path, "tile=16", "tile_overlap=4")
    assert sorted(progress.bars.values()) == [
        ["  bird.png", 6, "tiles", 6],
        ["x2", 2, None, 2],
    ]
    assert [task.description for task in progress.tasks] == ["x2"]  # a done image's bar goes


def test_ctrl_c_stops_in_one_line_saying_what_was_written(
    tmp_path: Path, checkpoint: Path, monkeypatch, capsys
):
    for name in ("baby.png", "bird.png"):
        Image.fromarray(crop(name)).save(tmp_path / name)
    written = []

    def write_or_stop(target: Path, *args) -> None:
        if written:
            raise KeyboardInterrupt  # Ctrl-C during the second image
        written.append(target)
        write_photo(target, *args)

    monkeypatch.setattr(upscale_module, "write_photo", write_or_stop)
    cfg = compose_config("upscale", [
        f"paths.output_dir={tmp_path / 'hydra'}", "device=cpu", f"ckpt_path={checkpoint}",
        f"input={tmp_path}", f"output={tmp_path / 'out'}",
    ])  # fmt: skip
    with pytest.raises(SystemExit) as stopped:
        run_entry_point(upscale, cfg, upscale_module.USAGE)
    assert stopped.value.code == 130
    said = capsys.readouterr().err
    assert said == f"stopped by Ctrl-C: 1 of 2 images written to {tmp_path / 'out'}\n"
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["baby.png"]


def test_the_progress_bar_shows_images_per_second():
    task = Task(0, "x2", 4, 4, _get_time=time.monotonic, finished_speed=2.5)
    assert ImagesPerSecond().render(task).plain == "2.50 images/s"


def test_an_8bit_image_gives_the_levels_eval_gives(tmp_path: Path, checkpoint: Path):
    Image.fromarray(crop("baby.png")).save(tmp_path / "baby.png")
    [written] = run(tmp_path, checkpoint, tmp_path / "baby.png")
    lr = to_float(crop("baby.png"))[None]
    with torch.inference_mode():
        expected = to_uint8(super_resolve(load_net(checkpoint), lr, 2)[0])
    assert (np.asarray(Image.open(written)) == expected).all()
