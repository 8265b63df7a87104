"""data/blind.py and its pure steps (ops/blur.py kernels, ops/noise.py, ops/jpeg.py): Real-ESRGAN's
random degradations, made from HR batches on the training device, fixed per test image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from helpers.images import set5
from srlab.data.blind import KERNEL_KINDS, Blind, BlindStage
from srlab.data.datamodule import SRDataModule
from srlab.data.io import write_image
from srlab.ops import blur
from srlab.ops.jpeg import jpeg
from srlab.ops.noise import gaussian_noise, poisson_noise
from srlab.utils.hydra import compose_config, instantiate


@pytest.fixture(scope="module")
def blind() -> Blind:
    return instantiate(compose_config("eval", ["degradation=blind"]).degradation)


def hr_batch(count: int = 4, size: int = 48) -> torch.Tensor:
    crops = [set5(name)[:size, :size] for name in ("baby", "bird", "head", "woman")[:count]]
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_a_batchs_lr_is_hr_over_the_scale_in_8bit_levels(blind: Blind, scale: int) -> None:
    lr = blind.degrade_batch(hr_batch(), scale, torch.Generator().manual_seed(0))
    assert lr.shape == (4, 3, 48 // scale, 48 // scale) and lr.dtype == torch.float32
    assert 0 <= lr.min() and lr.max() <= 1
    assert torch.equal(lr.mul(255).round(), lr.mul(255))


def test_a_batch_is_drawn_from_its_generator(blind: Blind) -> None:
    hr = hr_batch()
    first = blind.degrade_batch(hr, 2, torch.Generator().manual_seed(1))
    assert torch.equal(first, blind.degrade_batch(hr, 2, torch.Generator().manual_seed(1)))
    assert not torch.equal(first, blind.degrade_batch(hr, 2, torch.Generator().manual_seed(2)))


def test_a_test_images_lr_is_fixed_by_its_name(blind: Blind) -> None:
    hr = set5("butterfly")[:96, :96]
    first = blind.degrade(hr, 4, "butterfly")
    assert first.shape == (24, 24, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, blind.degrade(hr, 4, "butterfly"))
    assert not np.array_equal(first, blind.degrade(hr, 4, "other"))


def test_a_gray_image_stays_gray(blind: Blind) -> None:
    gray = set5("head")[:60, :60].mean(axis=2, keepdims=True).astype(np.uint8)
    assert blind.degrade(gray, 3, "head").shape == (20, 20, 1)


@pytest.mark.parametrize("kind", KERNEL_KINDS)
def test_every_kernel_kind_sums_to_one_and_is_point_symmetric(kind: str) -> None:
    stage = BlindStage(kernel_kinds=[kind], kernel_probs=[1.0], sinc_prob=0.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        kernel = Blind().kernel(stage, rng)
        assert kernel.shape[0] == kernel.shape[1] and kernel.shape[0] in stage.kernel_sizes
        assert abs(kernel.sum().item() - 1) < 1e-12
        assert torch.allclose(kernel, kernel.flip(0, 1))


def test_an_isotropic_gaussian_is_fspecials() -> None:
    iso = blur.anisotropic_gaussian(7, 1.6, 1.6, 0.3)
    assert torch.allclose(iso, blur.gaussian_kernel(7, 1.6), atol=1e-15)


def test_each_image_is_filtered_by_its_own_kernel() -> None:
    images = hr_batch(3)
    kernels = [blur.gaussian_kernel(7, 1.0), torch.ones(1, 1), blur.sinc(11, 2.0)]
    filtered = blur.filter_each(images, kernels)
    assert torch.equal(filtered[1], images[1])  # the 1 x 1 identity
    for index in (0, 2):
        alone = blur.filter_each(images[index : index + 1], [kernels[index]])
        assert torch.allclose(filtered[index], alone[0], atol=1e-6)
    assert not torch.allclose(filtered[0], images[0], atol=1e-3)


def test_a_sinc_kernel_passes_flat_images_unchanged() -> None:
    flat = torch.full((1, 3, 30, 30), 0.4)
    kernels = [blur.sinc(13, np.pi / 2)]
    assert torch.allclose(blur.filter_each(flat, kernels), flat, atol=1e-6)


def test_jpeg_is_opencvs_round_trip_at_each_quality() -> None:
    images = hr_batch(2)
    decoded = jpeg(images, [20, 90])
    for index, quality in enumerate((20, 90)):
        pixels = (images[index].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        _, encoded = cv2.imencode(".jpg", pixels[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        expected = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1]
        got = (decoded[index].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()
        np.testing.assert_array_equal(got, expected)
    same = images[:1].expand(2, -1, -1, -1)
    low, high = (jpeg(same, [20, 90]) - same).abs().mean(dim=(1, 2, 3))
    assert low > 2 * high  # quality 20 loses more than 90


def test_gaussian_noise_has_each_images_sigma_and_gray_noise_is_one_draw() -> None:
    images = torch.full((2, 3, 64, 64), 0.5)
    noisy = gaussian_noise(
        images, torch.tensor([0.1, 0.02]), torch.tensor([False, True]), torch.Generator()
    )
    noise = noisy - images
    assert abs(noise[0].std().item() - 0.1) < 0.005 and abs(noise[1].std().item() - 0.02) < 0.002
    assert torch.equal(noise[1, 0], noise[1, 2]) and not torch.equal(noise[0, 0], noise[0, 2])


def test_poisson_noise_grows_with_the_level_and_its_scale() -> None:
    images = torch.cat([torch.full((1, 3, 64, 64), 0.1), torch.full((1, 3, 64, 64), 0.9)])
    noise = poisson_noise(images, torch.tensor([1.0, 1.0]), torch.tensor([False, False])) - images
    # Poisson counts of level L have variance L: std sqrt(L) / 255
    for index, level in enumerate((0.1 * 255, 0.9 * 255)):
        assert noise[index].std().item() == pytest.approx(np.sqrt(level) / 255, rel=0.1)


def test_training_batches_get_their_lr_on_the_device_and_validation_a_fixed_one(tmp_path, blind):
    for folder, names in (("train", ("baby", "bird")), ("val", ("head",))):
        for name in names:
            write_image(tmp_path / folder / f"{name}.png", set5(name)[:96, :96])
    datamodule = SRDataModule(
        2, str(tmp_path / "train"), val_dir=str(tmp_path / "val"), patch_size=48, batch_size=2,
        num_workers=0, degradation=blind, augment=False,
    )  # fmt: skip
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    degraded = datamodule.degrade_batch(batch)
    assert degraded["lr"].shape == batch["lr"].shape == (2, 3, 24, 24)
    assert not torch.equal(degraded["lr"], batch["lr"])  # not the loader's placeholder
    (head,) = datamodule.val_datasets["val"].items
    np.testing.assert_array_equal(head.lr, blind.degrade(head.hr, 2, "head"))
