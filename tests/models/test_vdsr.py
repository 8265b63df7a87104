"""models/vdsr.py: sizes, shapes, the Y-channel protocol, and the authors' MATLAB file
(../shared/data/published/vdsr) computing what their MatConvNet code computes and scoring the
paper's Set5 numbers by srlab's protocol."""

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from helpers.published import Y_PAPER_SSIM_TOLERANCE, benchmark_scores, published_file
from srlab.models.vdsr import VDSR
from srlab.ops.cost import count_parameters
from srlab.ops.imresize import imresize
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir, instantiate
from srlab.weights.loading import load_net
from srlab.weights.matlab import read_mat

TINY = {"n_layers": 3, "n_feats": 8}
VDSR_FILE = "vdsr/VDSR_Official.mat"
PAPER_PARAMETERS = 665_921  # 20 layers x 64 features, on Y
# Kim et al. 2016, Table 3: (PSNR, SSIM) on Set5 at x2, x3, x4, and on Set14 at x2.
PAPER_SET5 = {2: (37.53, 0.9587), 3: (33.66, 0.9213), 4: (31.35, 0.8838)}
PAPER_SET14_X2 = (33.03, 0.9124)


def published_vdsr(scale: int) -> VDSR:
    """The authors' weights as `ckpt_path=` loads them (srlab's .mat reader and layout)."""
    net = load_net(published_file(VDSR_FILE), scale)
    assert isinstance(net, VDSR)
    return net


def test_config_builds_the_papers_665_921_parameters(tmp_path):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=["model=vdsr", f"paths.output_dir={tmp_path}"])
    with torch.device("meta"):
        net = instantiate(cfg.model)()
    assert isinstance(net, VDSR)
    assert count_parameters(net) == PAPER_PARAMETERS


@pytest.mark.parametrize("channels", ["y", "rgb"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_rgb_in_rgb_out_at_scale_times_a_non_square_batch(scale, channels):
    net = VDSR(scale=scale, channels=channels, **TINY)
    assert net(torch.rand(2, 3, 7, 11)).shape == (2, 3, 7 * scale, 11 * scale)
    assert (net.scale, net.input_channels) == (scale, 3)


@pytest.mark.parametrize("channels", ["y", "rgb"])
def test_with_no_residual_the_output_is_matlabs_bicubic_upscale(channels):
    """Y = X + F(X) with F = 0: the colour conversions undo each other around the bicubic."""
    net = VDSR(scale=3, channels=channels, **TINY)
    torch.nn.init.zeros_(net.body[-1].weight)
    torch.nn.init.zeros_(net.body[-1].bias)
    lr = torch.rand(1, 3, 9, 8, dtype=torch.float64)
    with torch.no_grad():
        sr = net.double()(lr)
    torch.testing.assert_close(sr, imresize(lr, scale=3.0), rtol=0, atol=1e-12)


def test_the_convs_see_the_luma_only():
    """channels=y: one image channel into the first conv and out of the last."""
    net = VDSR(scale=2, **TINY)
    assert (net.body.conv1.in_channels, net.body.conv3.out_channels) == (1, 1)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"n_layers": 1}, "model.n_layers"),
        ({"n_feats": 0}, "model.n_feats"),
        ({"channels": "ycbcr"}, "model.channels"),
        ({"scale": 1}, "scale"),
    ],
)
def test_a_setting_it_cannot_build_names_its_key(settings, key):
    with pytest.raises(SRLabError, match=key):
        VDSR(**{"scale": 2, **TINY, **settings})


def test_loading_the_file_asks_for_the_scale_it_does_not_record():
    path = published_file(VDSR_FILE)
    with pytest.raises(SRLabError, match="pass scale=2, 3 or 4"):
        load_net(path)


def matconvnet_vdsr(y: np.ndarray, mat: dict[str, torch.Tensor]) -> np.ndarray:
    """The authors' VDSR_Matconvnet.m in NumPy, from the file's own arrays: vl_nnconv(x, w, b,
    'Pad', 1) is out(i, j, k) = b(k) + sum_{u, v, c} w(u, v, c, k) x(i + u - 1, j + v - 1, c)
    over the zero-padded x (u along rows), ReLU between, and the input added."""
    features = y[:, :, None]
    n_layers = len([key for key in mat if key.startswith("model.weight")])
    height, width = y.shape
    for layer in range(1, n_layers + 1):
        weight = mat[f"model.weight{{{layer}}}"].double().numpy()
        weight = weight.reshape(3, 3, features.shape[2], -1)  # MATLAB dropped the last's out = 1
        bias = mat[f"model.bias{{{layer}}}"].double().numpy().ravel()
        padded = np.pad(features, ((1, 1), (1, 1), (0, 0)))
        out = np.broadcast_to(bias, (height, width, bias.size)).copy()
        for u in range(3):
            for v in range(3):
                out += padded[u : u + height, v : v + width] @ weight[u, v]
        features = np.maximum(out, 0) if layer < n_layers else out
    return y + features[:, :, 0]


def test_the_published_net_computes_what_the_authors_matlab_code_computes():
    """An orientation check that the scores cannot make: all filters transposed is the same
    net run on the transposed image, which scores within ~0.02 dB of the right one."""
    net = published_vdsr(scale=2)
    y = np.random.default_rng(0).uniform(16 / 255, 235 / 255, size=(13, 19))  # not square
    with torch.no_grad():
        ours = net.refine(torch.from_numpy(y).float()[None, None])[0, 0].double().numpy()
    np.testing.assert_allclose(
        ours, matconvnet_vdsr(y, read_mat(published_file(VDSR_FILE))), atol=2e-5
    )


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_the_published_weights_score_the_papers_set5_numbers(scale):
    """Kim et al.'s PSNR to its two decimals within 0.02 dB, as srlab's eval scores it: the RGB
    result rounded to 8 bits. That leaves Y a third of the rounding noise of the papers' Y
    rounded to 8 bits: 37.550 at x2, where rounding Y gives 37.522 (33.677 / 33.665 at x3)."""
    psnr, ssim = benchmark_scores(published_vdsr(scale), scale)
    paper_psnr, paper_ssim = PAPER_SET5[scale]
    assert abs(round(psnr, 2) - paper_psnr) <= 0.02 + 1e-9, psnr
    assert abs(ssim - paper_ssim) <= Y_PAPER_SSIM_TOLERANCE, ssim


@pytest.mark.slow
def test_the_published_weights_score_the_papers_set14_numbers_at_x2():
    psnr, ssim = benchmark_scores(published_vdsr(2), 2, "Set14")
    paper_psnr, paper_ssim = PAPER_SET14_X2
    assert abs(round(psnr, 2) - paper_psnr) <= 0.03 + 1e-9, psnr
    assert abs(ssim - paper_ssim) <= Y_PAPER_SSIM_TOLERANCE, ssim
