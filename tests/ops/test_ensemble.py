"""ops/ensemble.py: the 8 D4 views and their inverses, and the self-ensemble's mean over them."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.images import set5
from srlab.models.resnet_sr import ResNetSR
from srlab.ops.ensemble import TRANSFORMS, self_ensemble
from srlab.ops.pixels import to_float


@pytest.fixture
def photo() -> torch.Tensor:
    """(2, 3, 20, 28): two non-square crops of a real photo, one of them with no symmetry."""
    image = to_float(set5("butterfly"))
    return torch.stack([image[:, 40:60, 70:98], image[:, 100:120, 10:38]])


def random_net() -> ResNetSR:
    """A net with random 3x3 kernels: its output changes when its input is flipped or turned."""
    torch.manual_seed(0)
    return ResNetSR(scale=2, n_resblocks=1, n_feats=8).eval()


class SymmetricNet(nn.Module):
    """A 3x3 conv whose kernels are unchanged by every D4 transform, then nearest upsampling:
    a net that commutes with flips and rotations, so its ensemble is its plain output."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        centre, edge, corner = torch.randn(3, 3, 3, 1, 1)
        ring = torch.tensor([[1.0, 0, 1], [0, 0, 0], [1, 0, 1]])
        cross = torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])
        dot = torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]])
        self.weight = centre * dot + edge * cross + corner * ring  # (3, 3, 3, 3)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight, padding=1)
        return F.interpolate(x, scale_factor=self.scale, mode="nearest")


def view_by_view(forward, x: torch.Tensor) -> torch.Tensor:
    """The ensemble's definition, one view at a time, summed in TRANSFORMS order."""
    return sum(t.inverse(forward(t(x))) for t in TRANSFORMS) / len(TRANSFORMS)


def test_the_inverse_of_every_view_undoes_it(photo):
    for t in TRANSFORMS:
        assert torch.equal(t.inverse(t(photo)), photo), t
        assert torch.equal(t(t.inverse(photo)), photo), t


def test_the_views_are_the_8_distinct_symmetries_4_of_them_turned(photo):
    views = [t(photo) for t in TRANSFORMS]
    assert len({tuple(view.flatten().tolist()) for view in views}) == 8
    assert [view.shape[-2:] for view in views] == [(20, 28)] * 4 + [(28, 20)] * 4


@pytest.mark.parametrize("scale", [2, 3])
def test_a_net_that_commutes_with_the_symmetries_is_its_own_ensemble(photo, scale):
    net = SymmetricNet(scale)
    with torch.inference_mode():
        torch.testing.assert_close(self_ensemble(net, photo), net(photo))


def test_the_ensemble_commutes_with_every_symmetry_of_its_input(photo):
    net = random_net()
    with torch.inference_mode():
        ensembled = self_ensemble(net, photo)
        for t in TRANSFORMS[1:]:
            # The plain net does not commute (else this test would prove nothing) ...
            assert (net(t(photo)) - t(net(photo))).abs().max() > 1e-3, t
            # ... its ensemble does, as the mean over the whole group is the same mean.
            torch.testing.assert_close(self_ensemble(net, t(photo)), t(ensembled), msg=str(t))


@pytest.mark.parametrize("size", [(20, 20), (20, 28)])
@pytest.mark.parametrize("max_batch", [None, 1, 3])
def test_batched_views_give_the_view_by_view_mean(photo, size, max_batch):
    x = photo[..., : size[0], : size[1]]
    net = random_net()
    with torch.inference_mode():
        torch.testing.assert_close(
            self_ensemble(net, x, max_batch=max_batch), view_by_view(net, x), rtol=0, atol=1e-6
        )


@pytest.mark.parametrize(
    ("size", "max_batch", "batches"),
    [
        ((20, 20), None, [16]),  # square: all 8 views of both images at once
        ((20, 28), None, [8, 8]),  # the 4 views of each shape together
        ((20, 28), 3, [3, 3, 2, 3, 3, 2]),  # at most 3 images a call
    ],
)
def test_views_of_one_shape_share_a_forward_of_at_most_max_batch(photo, size, max_batch, batches):
    x = photo[..., : size[0], : size[1]]
    calls = []

    def forward(views):
        calls.append(views.shape[0])
        return views

    self_ensemble(forward, x, max_batch=max_batch)
    assert calls == batches


def test_a_bf16_net_is_averaged_in_float32(photo):
    ensembled = self_ensemble(lambda views: views.bfloat16(), photo)
    # Summed in bf16, the 8 equal views would round (3x is not a bf16 number for most x).
    assert ensembled.dtype == torch.float32
    assert torch.equal(ensembled, photo.bfloat16().float())
