"""data/datamodule.py and data/datasets.py on temp folders of real (bundled Set5) images.

Samples are turned back into uint8 arrays and compared exactly: crops against the HR image,
LR against `bicubic_downscale` (the protocol's exact degradation).
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from helpers.images import set5
from srlab.data.datamodule import ShardSampler, SRDataModule
from srlab.data.degradation import (
    BicubicNoise,
    BlurDownsample,
    bicubic_downscale,
    bicubic_upscale,
)
from srlab.data.io import mod_crop, write_image
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import compose_config, config_dir, instantiate

PATCH = 48  # a multiple of 2, 3 and 4


def _train_images() -> dict[str, np.ndarray]:
    """Two HR images whose sizes are multiples of 2 and 3 (so an LR folder can hold HR/s)."""
    return {
        "baby": set5("baby")[60:156, 100:220],  # 96 x 120
        "bird": set5("bird")[30:120, 20:104],  # 90 x 84
    }


def _write_folder(folder: Path, images: dict[str, np.ndarray]) -> Path:
    for name, image in images.items():
        write_image(folder / f"{name}.png", image)
    return folder


@pytest.fixture
def val_dir(tmp_path) -> Path:
    return _write_folder(tmp_path / "valset", {"head": set5("head")[:61, :50]})


def _datamodule(train_dir: Path, val_dir: Path, **options) -> SRDataModule:
    settings = {
        "scale": 2,
        "train_dir": str(train_dir),
        "val_dir": str(val_dir),
        "patch_size": PATCH,
        "batch_size": 2,
        "augment": False,
        "num_workers": 0,
    }
    return SRDataModule(**(settings | options))


def _uint8(tensor: torch.Tensor) -> np.ndarray:
    """float (C, H, W) in [0, 1] -> uint8 (H, W, C): undoes to_tensor exactly."""
    return (tensor * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def _samples(datamodule: SRDataModule, count: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(image index, HR, LR) of `count` training samples, cycling over the images."""
    dataset = datamodule.train_set
    out = []
    for index in range(count):
        sample = dataset[index % len(dataset)]
        out.append((index % len(dataset.hr_images), _uint8(sample["hr"]), _uint8(sample["lr"])))
    return out


def _positions(image: np.ndarray, crop: np.ndarray) -> list[tuple[int, int]]:
    """Every (row, column) at which `crop` lies in `image`."""
    height, width = crop.shape[:2]
    rows, cols = image.shape[0] - height + 1, image.shape[1] - width + 1
    return [
        (r, c)
        for r in range(rows)
        for c in range(cols)
        if np.array_equal(image[r : r + height, c : c + width], crop)
    ]


def _d4(image: np.ndarray) -> list[np.ndarray]:
    """The 8 flips and 90-degree rotations of an image."""
    return [np.rot90(image, k) for k in range(4)] + [np.rot90(image[:, ::-1], k) for k in range(4)]


# Training patches


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_batches_hold_patch_size_hr_and_patch_over_scale_lr(tmp_path, val_dir, scale):
    train_dir = _write_folder(tmp_path / "train", _train_images())
    datamodule = _datamodule(train_dir, val_dir, scale=scale, repeat=2, augment=True)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    lr_patch = PATCH // scale
    assert batch["hr"].shape == (2, 3, PATCH, PATCH)
    assert batch["lr"].shape == (2, 3, lr_patch, lr_patch)
    assert batch["hr"].dtype == batch["lr"].dtype == torch.float32
    assert 0 <= batch["hr"].min() and batch["hr"].max() <= 1


def _assert_lr_is_the_crop_of_the_whole_lr(datamodule: SRDataModule, images, scale: int) -> None:
    """Each sample's LR is the aligned crop of its whole image's exact LR (what validation, eval
    and the papers' LR folders hold), border ring included."""
    names = sorted(images)
    whole_lr = {name: bicubic_downscale(mod_crop(images[name], scale), scale) for name in names}
    lr_patch = PATCH // scale
    torch.manual_seed(0)
    for image_index, hr, lr in _samples(datamodule, 6):
        (row, col), *_ = _positions(images[names[image_index]], hr)
        top, left = row // scale, col // scale
        expected = whole_lr[names[image_index]][top : top + lr_patch, left : left + lr_patch]
        np.testing.assert_array_equal(lr, expected)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_lr_is_the_crop_of_the_whole_images_exact_degradation(tmp_path, val_dir, scale):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    datamodule = _datamodule(train_dir, val_dir, scale=scale)
    datamodule.setup("fit")
    _assert_lr_is_the_crop_of_the_whole_lr(datamodule, images, scale)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_hr_crops_are_taken_at_lr_grid_positions_of_the_image(tmp_path, val_dir, scale):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    datamodule = _datamodule(train_dir, val_dir, scale=scale)
    datamodule.setup("fit")
    names = sorted(images)
    torch.manual_seed(0)
    seen = set()
    for image_index, hr, _ in _samples(datamodule, 8):
        positions = _positions(images[names[image_index]], hr)
        assert len(positions) == 1
        row, col = positions[0]
        assert row % scale == 0 and col % scale == 0
        seen.add(positions[0])
    assert len(seen) > 2  # crops are drawn at random positions


@pytest.mark.parametrize("scale", [2, 3])
def test_augmentation_applies_the_same_d4_transform_to_hr_and_lr(tmp_path, val_dir, scale):
    # A patch-sized image: the crop is the whole image, so only the augmentation moves pixels.
    original = set5("baby")[100 : 100 + PATCH, 200 : 200 + PATCH]
    train_dir = _write_folder(tmp_path / "train", {"patch": original})
    datamodule = _datamodule(train_dir, val_dir, scale=scale, augment=True, repeat=16)
    datamodule.setup("fit")
    hr_transforms = _d4(original)
    lr_transforms = _d4(bicubic_downscale(original, scale))
    torch.manual_seed(0)
    used = []
    for _, hr, lr in _samples(datamodule, 16):
        matches = [i for i, candidate in enumerate(hr_transforms) if np.array_equal(hr, candidate)]
        assert len(matches) == 1, "HR is not a flip/rotation of the original"
        np.testing.assert_array_equal(lr, lr_transforms[matches[0]])
        used.append(matches[0])
    assert len(set(used)) > 1


def test_augmentation_is_reproducible_under_a_torch_seed(tmp_path, val_dir):
    original = set5("baby")[100 : 100 + PATCH, 200 : 200 + PATCH]
    train_dir = _write_folder(tmp_path / "train", {"patch": original})
    runs = []
    for _ in range(2):  # two runs, each seeded as seed_everything does
        torch.manual_seed(3)
        datamodule = _datamodule(train_dir, val_dir, augment=True, repeat=8)
        datamodule.setup("fit")
        runs.append([hr for _, hr, _ in _samples(datamodule, 8)])
    for first, second in zip(*runs, strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("scale", [2, 3])
def test_precomputed_lr_folder_is_used_at_the_aligned_position(tmp_path, val_dir, scale):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    lr_images = {name: bicubic_downscale(image, scale) for name, image in images.items()}
    lr_dir = _write_folder(tmp_path / "lr", {f"{n}x{scale}": im for n, im in lr_images.items()})
    datamodule = _datamodule(train_dir, val_dir, scale=scale, train_lr_dir=str(lr_dir))
    datamodule.setup("fit")
    names = sorted(images)
    lr_patch = PATCH // scale
    torch.manual_seed(0)
    differs_from_on_the_fly = False
    for image_index, hr, lr in _samples(datamodule, 8):
        (row, col), *_ = _positions(images[names[image_index]], hr)
        top, left = row // scale, col // scale
        lr_file = lr_images[names[image_index]]
        np.testing.assert_array_equal(lr, lr_file[top : top + lr_patch, left : left + lr_patch])
        differs_from_on_the_fly |= not np.array_equal(lr, bicubic_downscale(hr, scale))
    # Degrading a crop differs from cropping the degraded image near the crop's edges.
    assert differs_from_on_the_fly


def test_a_missing_lr_folder_falls_back_to_the_exact_degradation(tmp_path, val_dir):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    datamodule = _datamodule(train_dir, val_dir, train_lr_dir=str(tmp_path / "no_lr"))
    datamodule.setup("fit")
    _assert_lr_is_the_crop_of_the_whole_lr(datamodule, images, 2)


def test_missing_lr_partners_are_listed(tmp_path, val_dir):
    image = _train_images()["baby"]
    train_dir = _write_folder(tmp_path / "train", {"alpha": image, "beta": image, "gamma": image})
    lr_dir = _write_folder(tmp_path / "lr", {"alphax2": bicubic_downscale(image, 2)})
    datamodule = _datamodule(train_dir, val_dir, train_lr_dir=str(lr_dir))
    with pytest.raises(SRLabError, match="2 HR images .* have no LR partner") as error:
        datamodule.setup("fit")
    assert "beta, gamma" in str(error.value) and "{stem}x2.png" in str(error.value)
    assert str(lr_dir) in str(error.value)


def test_lr_of_the_wrong_size_is_an_error_naming_the_image(tmp_path, val_dir):
    image = _train_images()["baby"]
    train_dir = _write_folder(tmp_path / "train", {"baby": image})
    lr_dir = _write_folder(tmp_path / "lr", {"babyx2": bicubic_downscale(image, 3)})
    datamodule = _datamodule(train_dir, val_dir, train_lr_dir=str(lr_dir))
    with pytest.raises(SRLabError, match="not HR/2") as error:
        datamodule.setup("fit")
    assert "baby (HR 120x96, LR 40x32)" in str(error.value)


def test_patch_size_not_a_multiple_of_the_scale_is_a_user_error(tmp_path, val_dir):
    train_dir = _write_folder(tmp_path / "train", _train_images())
    with pytest.raises(SRLabError, match="patch_size"):
        _datamodule(train_dir, val_dir, scale=3, patch_size=50)


@pytest.mark.parametrize("key", ["batch_size", "patch_size", "repeat"])
def test_a_zero_size_is_a_user_error_naming_the_key(tmp_path, val_dir, key):
    train_dir = _write_folder(tmp_path / "train", _train_images())
    with pytest.raises(SRLabError, match=f"data.{key}=0 must be > 0"):
        _datamodule(train_dir, val_dir, **{key: 0})


# Folders and bad files


def test_missing_train_folder_is_an_error_naming_it(tmp_path, val_dir):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(SRLabError, match="training HR") as error:
        _datamodule(missing, val_dir)
    assert str(missing) in str(error.value)


def test_missing_validation_folder_is_an_error_naming_it(tmp_path):
    train_dir = _write_folder(tmp_path / "train", _train_images())
    with pytest.raises(SRLabError, match=str(tmp_path / "no_val")):
        _datamodule(train_dir, tmp_path / "no_val")


@pytest.mark.parametrize("contents", [{}, {"notes.txt": b"no image"}], ids=["empty", "no-images"])
def test_train_folder_without_images_is_an_error_naming_it(tmp_path, val_dir, contents):
    train_dir = tmp_path / "train"
    train_dir.mkdir()
    for name, data in contents.items():
        (train_dir / name).write_bytes(data)
    datamodule = _datamodule(train_dir, val_dir)
    with pytest.raises(SRLabError, match="no images") as error:
        datamodule.setup("fit")
    assert str(train_dir) in str(error.value)


def test_corrupt_image_is_an_error_naming_the_file(tmp_path, val_dir):
    train_dir = _write_folder(tmp_path / "train", {"good": _train_images()["baby"]})
    (train_dir / "x.png").write_bytes(b"\x89PNG garbage" + bytes(range(256)))
    datamodule = _datamodule(train_dir, val_dir)
    with pytest.raises(SRLabError, match="x.png") as error:
        datamodule.setup("fit")
    assert "skip_bad_images" in str(error.value)


def test_corrupt_image_is_skipped_with_skip_bad_images(tmp_path, val_dir):
    good = _train_images()["baby"]
    train_dir = _write_folder(tmp_path / "train", {"good": good})
    (train_dir / "x.png").write_bytes(b"\x89PNG garbage" + bytes(range(256)))
    datamodule = _datamodule(train_dir, val_dir, skip_bad_images=True, repeat=3)
    datamodule.setup("fit")
    assert len(datamodule.train_set) == 3
    assert len(datamodule.train_set.hr_images) == 1
    np.testing.assert_array_equal(datamodule.train_set.hr_images[0], good)


def test_images_smaller_than_the_patch_are_skipped(tmp_path, val_dir):
    big = set5("baby")[:64, :64]
    small = set5("baby")[: PATCH - 1, :200]
    train_dir = _write_folder(tmp_path / "train", {"big": big, "small": small})
    datamodule = _datamodule(train_dir, val_dir)
    datamodule.setup("fit")
    assert len(datamodule.train_set.hr_images) == 1
    np.testing.assert_array_equal(datamodule.train_set.hr_images[0], big)


def test_no_image_as_large_as_the_patch_is_an_error(tmp_path, val_dir):
    small = set5("baby")[:40, :40]
    train_dir = _write_folder(tmp_path / "train", {"a": small, "b": small})
    datamodule = _datamodule(train_dir, val_dir)
    with pytest.raises(SRLabError, match=f"data.patch_size={PATCH}"):
        datamodule.setup("fit")


def test_train_files_patterns_select_images(tmp_path, val_dir):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    datamodule = _datamodule(train_dir, val_dir, train_files=["bab*.png"])
    datamodule.setup("fit")
    assert len(datamodule.train_set.hr_images) == 1
    np.testing.assert_array_equal(datamodule.train_set.hr_images[0], images["baby"])


def test_train_files_matching_nothing_is_an_error(tmp_path, val_dir):
    train_dir = _write_folder(tmp_path / "train", _train_images())
    with pytest.raises(SRLabError, match="matches no image"):
        _datamodule(train_dir, val_dir, train_files=["*.jpg"]).setup("fit")


def test_disk_cache_gives_the_same_images_as_memory(tmp_path, val_dir):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    cache_dir = tmp_path / "cache"
    datamodule = _datamodule(train_dir, val_dir, cache="disk", cache_dir=str(cache_dir))
    datamodule.setup("fit")
    assert len(list((cache_dir / "train").glob("*.npy"))) == 2  # HR as decoded
    assert len(list((cache_dir / "train_lr_x2_made").glob("*.npy"))) == 2  # their exact LR
    for name, cached in zip(sorted(images), datamodule.train_set.hr_images, strict=True):
        np.testing.assert_array_equal(cached, images[name])
    memory = _datamodule(train_dir, val_dir)
    memory.setup("fit")
    lr_pairs = zip(datamodule.train_set.lr_images, memory.train_set.lr_images, strict=True)
    for on_disk, in_memory in lr_pairs:
        np.testing.assert_array_equal(on_disk, in_memory)


def test_a_second_degradation_does_not_read_the_first_ones_cached_lr(tmp_path, val_dir):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    cache = {"cache": "disk", "cache_dir": str(tmp_path / "cache"), "scale": 3}
    _datamodule(train_dir, val_dir, **cache).setup("fit")  # bicubic LR on disk
    blurred = _datamodule(train_dir, val_dir, degradation=BlurDownsample(), **cache)
    blurred.setup("fit")
    for name, lr in zip(sorted(images), blurred.train_set.lr_images, strict=True):
        np.testing.assert_array_equal(lr, BlurDownsample().downscale(images[name], 3))
    assert len(list((tmp_path / "cache" / "train_lr_x3_made").glob("*.npy"))) == 4


def test_a_bicubic_lr_folder_is_not_read_for_another_degradation(tmp_path, val_dir):
    images = _train_images()
    train_dir = _write_folder(tmp_path / "train", images)
    lr_dir = _write_folder(
        tmp_path / "lr", {f"{n}x2": bicubic_downscale(im, 2) for n, im in images.items()}
    )
    datamodule = _datamodule(
        train_dir, val_dir, train_lr_dir=str(lr_dir), degradation=BlurDownsample()
    )
    datamodule.setup("fit")
    for name, lr in zip(sorted(images), datamodule.train_set.lr_images, strict=True):
        np.testing.assert_array_equal(lr, BlurDownsample().downscale(images[name], 2))
    noisy = _datamodule(train_dir, val_dir, train_lr_dir=str(lr_dir), degradation=BicubicNoise())
    noisy.setup("fit")  # DN's exact part is bicubic: the folder is its LR, noise comes per patch
    assert not isinstance(noisy.train_set.lr_images[0], np.memmap)
    for name, lr in zip(sorted(images), noisy.train_set.lr_images, strict=True):
        np.testing.assert_array_equal(lr, bicubic_downscale(images[name], 2))


def test_the_train_config_gives_the_data_its_degradation(tmp_path):
    cfg = compose_config("train", ["degradation=bd", "logger=none"])
    assert instantiate(cfg.data).degradation.name == "bd_sigma1.6"
    assert instantiate(compose_config("train", ["logger=none"]).data).degradation.name == "bicubic"


def test_repeat_multiplies_the_epoch_length(tmp_path, val_dir):
    train_dir = _write_folder(tmp_path / "train", _train_images())
    once = _datamodule(train_dir, val_dir, repeat=1)
    five_times = _datamodule(train_dir, val_dir, repeat=5)
    once.setup("fit")
    five_times.setup("fit")
    assert len(once.train_set) == 2
    assert len(five_times.train_set) == 10
    assert len(five_times.train_dataloader()) == 10 // 2


# Validation


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_validation_images_are_whole_mod_cropped_images_with_exact_lr(tmp_path, scale):
    originals = {
        "butterfly": set5("butterfly")[:61, :49],  # divisible by none of 2, 3, 4
        "bird": set5("bird")[:45, :71],
    }
    val_dir = _write_folder(tmp_path / "valset", originals)
    train_dir = _write_folder(tmp_path / "train", _train_images())
    datamodule = _datamodule(train_dir, val_dir, scale=scale)
    datamodule.setup("validate")
    assert datamodule.val_names == ["valset"]
    (loader,) = datamodule.val_dataloader()
    names = []
    for batch in loader:
        (name,) = batch["name"]
        names.append(name)
        height, width = originals[name].shape[:2]
        hr = originals[name][: height - height % scale, : width - width % scale]
        lr = bicubic_downscale(hr, scale)
        np.testing.assert_array_equal(_uint8(batch["hr"][0]), hr)
        np.testing.assert_array_equal(_uint8(batch["lr"][0]), lr)
        np.testing.assert_array_equal(_uint8(batch["bicubic"][0]), bicubic_upscale(lr, scale))
    assert sorted(names) == sorted(originals)


def test_validation_does_not_build_the_training_set(tmp_path, val_dir):
    train_dir = _write_folder(tmp_path / "train", _train_images())
    datamodule = _datamodule(train_dir, val_dir)
    datamodule.setup("validate")
    assert datamodule.train_set is None


@pytest.mark.parametrize(("length", "world_size"), [(7, 3), (5, 2), (2, 4), (68, 8)])
def test_shard_sampler_splits_indices_without_padding_or_duplicates(length, world_size):
    shards = [list(ShardSampler(length, rank, world_size)) for rank in range(world_size)]
    merged = [index for shard in shards for index in shard]
    assert sorted(merged) == list(range(length))
    assert [len(ShardSampler(length, r, world_size)) for r in range(world_size)] == [
        len(shard) for shard in shards
    ]


def test_validation_loaders_of_all_ranks_score_every_image_once(tmp_path):
    head = set5("head")
    crops = {f"head{i}": head[i : i + 40, :40] for i in range(3)}
    val_dir = _write_folder(tmp_path / "valset", crops)
    train_dir = _write_folder(tmp_path / "train", _train_images())
    datamodule = _datamodule(train_dir, val_dir)
    datamodule.setup("validate")
    names = []
    for rank in range(2):
        datamodule.trainer = SimpleNamespace(world_size=2, global_rank=rank)
        (loader,) = datamodule.val_dataloader()
        names += [name for batch in loader for name in batch["name"]]
    assert sorted(names) == ["head0", "head1", "head2"]  # 3 images, not padded to 4


# Configs


def _div2k_config(data_dir: Path):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            "train",
            overrides=["data=div2k", f"paths.data_dir={data_dir}", f"paths.output_dir={data_dir}"],
        )


def test_div2k_config_without_data_names_the_folder_and_how_to_get_it(tmp_path):
    cfg = _div2k_config(tmp_path)
    with pytest.raises(SRLabError) as error:
        instantiate(cfg.data)  # srlab's instantiate: the user error itself, not Hydra's wrapper
    message = str(error.value)
    assert str(tmp_path / "DIV2K" / "DIV2K_train_HR") in message
    assert "https://data.vision.ee.ethz.ch/cvl/DIV2K/" in message
    assert "paths.data_dir=" in message
