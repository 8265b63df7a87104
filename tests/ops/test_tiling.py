"""ops/tiling.py: tiled inference matches a whole-image pass on real images, for any tiling."""

from itertools import pairwise

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from conftest import SET5
from srlab.models.resnet_sr import ResNetSR
from srlab.ops.quality import psnr
from srlab.ops.tiling import _spans, tiled_forward


class BoxSumNet:
    """A stand-in SR net whose receptive field is exactly `radius` LR pixels: each channel summed
    over a (2 radius + 1)^2 window (zeros beyond the input), nearest-upscaled. The sums come from
    a float64 summed-area table, exact on images of integers: a tile's pixels equal the whole
    image's to the last bit where the tile held their whole window, and are off where not.

    It records where each tile it is given sits in the image (LR rows, LR columns), read from
    channels 0 and 1 of `coordinates_image`.
    """

    def __init__(self, radius: int, scale: int):
        self.radius = radius
        self.scale = scale
        self.tiles: list[tuple[range, range]] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        top, left = int(x[0, 0, 0, 0]), int(x[0, 1, 0, 0])
        self.tiles.append((range(top, top + x.shape[-2]), range(left, left + x.shape[-1])))
        r = self.radius
        table = F.pad(x.double(), (r + 1, r, r + 1, r)).cumsum(-2).cumsum(-1)
        w = 2 * r + 1  # table[i + w, j + w] - ... : the sum over the window centred on (i, j)
        sums = table[..., w:, w:] - table[..., :-w, w:] - table[..., w:, :-w] + table[..., :-w, :-w]
        return sums.repeat_interleave(self.scale, -2).repeat_interleave(self.scale, -1)


def coordinates_image(height: int, width: int) -> torch.Tensor:
    """(1, 3, height, width): each pixel's row, its column, and a random level 0-9."""
    rows = torch.arange(height).view(-1, 1).expand(height, width)
    columns = torch.arange(width).view(1, -1).expand(height, width)
    levels = torch.randint(0, 10, (height, width), generator=torch.Generator().manual_seed(0))
    return torch.stack([rows, columns, levels]).float()[None]


def real_lr(name: str = "butterfly", scale: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """(LR, HR) float (1, 3, h, w) in [0, 1] from a Set5 image (PIL bicubic is enough here)."""
    hr = Image.open(SET5 / f"{name}.png").convert("RGB")
    hr = hr.crop((0, 0, hr.width - hr.width % scale, hr.height - hr.height % scale))
    lr = hr.resize((hr.width // scale, hr.height // scale), Image.BICUBIC)
    return tuple(
        torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)[None].float() / 255
        for image in (lr, hr)
    )


def random_net(scale: int, n_resblocks: int = 2) -> ResNetSR:
    torch.manual_seed(0)
    return ResNetSR(scale=scale, n_resblocks=n_resblocks, n_feats=8).eval()


@pytest.mark.parametrize("scale", [2, 3])
def test_tiles_give_the_whole_image_result_within_0_01_db(scale):
    lr, hr = real_lr(scale=scale)
    net = random_net(scale, n_resblocks=4)  # a receptive field wider than the kept context
    with torch.inference_mode():
        whole = net(lr).clamp(0, 1)
        tiled = tiled_forward(net, lr, scale, tile=40, overlap=12).clamp(0, 1)
    assert tiled.shape == whole.shape
    difference = psnr(tiled, hr, border=scale) - psnr(whole, hr, border=scale)
    assert abs(difference.item()) < 0.01


def test_tiles_are_exact_once_the_context_covers_the_receptive_field():
    lr, _ = real_lr()
    net = random_net(2)  # 7 convolutions at LR resolution: 7 pixels of context suffice
    with torch.inference_mode():
        whole = net(lr)
        tiled = tiled_forward(net, lr, 2, tile=48, overlap=16)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)


def test_a_batch_is_tiled_image_by_image():
    lr, _ = real_lr()
    batch = torch.cat([lr, lr.flip(-1)])
    net = random_net(2)
    with torch.inference_mode():
        together = tiled_forward(net, batch, 2, tile=48, overlap=16)
        alone = [tiled_forward(net, image[None], 2, tile=48, overlap=16) for image in batch]
    torch.testing.assert_close(together, torch.cat(alone), rtol=0, atol=1e-6)


@pytest.mark.parametrize("tile", [None, 0, 128, 500])
def test_no_tiling_when_off_or_the_image_fits_one_tile(tile):
    lr = torch.rand(1, 3, 100, 128)
    calls = []

    def net(x):
        calls.append(x.shape)
        return x.repeat_interleave(2, -1).repeat_interleave(2, -2)

    tiled_forward(net, lr, 2, tile=tile, overlap=16)
    assert calls == [lr.shape]


def test_every_tile_fed_to_the_net_has_the_tile_size():
    lr = torch.rand(2, 3, 70, 101)
    sizes = set()

    def net(x):
        sizes.add(tuple(x.shape))
        return x.repeat_interleave(3, -1).repeat_interleave(3, -2)

    sr = tiled_forward(net, lr, 3, tile=32, overlap=8)
    assert sizes == {(2, 3, 32, 32)}
    # The nearest-neighbour "net" is local, so tiling must reproduce it exactly.
    torch.testing.assert_close(sr, net(lr), rtol=0, atol=0)


def test_tiles_cover_every_image_size_overlapping_by_the_overlap_and_give_the_whole_result():
    tile, overlap, scale = 48, 16, 2
    for length in range(tile + 1, 201):  # 1 to 6 tiles a side, every rounding of the spacing
        lr = coordinates_image(length, length)
        net = BoxSumNet(radius=overlap // 2, scale=scale)  # the context the tiles promise
        sr = tiled_forward(net, lr, scale, tile=tile, overlap=overlap)
        for axis in (0, 1):
            spans = sorted({tile_spans[axis] for tile_spans in net.tiles}, key=lambda s: s.start)
            assert spans[0].start == 0 and spans[-1].stop == length, (length, spans)
            assert {len(span) for span in spans} == {tile}, (length, spans)
            shared = [before.stop - after.start for before, after in pairwise(spans)]
            assert min(shared) >= overlap, f"{length} pixels: tiles share {shared}"
        whole = BoxSumNet(radius=overlap // 2, scale=scale)(lr)
        torch.testing.assert_close(sr, whole, rtol=0, atol=0, msg=f"{length} x {length} pixels")


@pytest.mark.parametrize(("length", "tile", "overlap"), [(10, 4, 2), (100, 48, 16), (129, 64, 32)])
def test_kept_parts_partition_the_axis_with_half_the_overlap_as_context(length, tile, overlap):
    spans = _spans(length, tile, overlap)
    kept = [index for _, keep in spans for index in range(keep.start, keep.stop)]
    assert kept == list(range(length))
    for tile_span, keep in spans:
        assert tile_span.stop - tile_span.start == tile
        if tile_span.start > 0:
            assert keep.start - tile_span.start >= overlap // 2
        if tile_span.stop < length:
            assert tile_span.stop - keep.stop >= overlap // 2


def test_overlap_must_be_smaller_than_the_tile():
    with pytest.raises(ValueError, match="larger than the overlap"):
        tiled_forward(lambda x: x, torch.rand(1, 3, 64, 64), 2, tile=16, overlap=16)
