"""models/srcnn.py: sizes, shapes, settings, and the authors' MATLAB file
(../shared/data/published/srcnn) computing what their SRCNN.m computes and scoring the paper's
Set5 number by srlab's protocol."""

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from helpers.published import Y_PAPER_SSIM_TOLERANCE, benchmark_scores, published_file
from srlab.models.srcnn import SRCNN
from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir, instantiate
from srlab.weights.loading import load_net
from srlab.weights.matlab import read_mat

TINY = {"kernel_sizes": (3, 1, 3), "n_feats": (8, 4)}
SRCNN_FILE = "srcnn/srcnn_955_imagenet_x3.mat"
# Dong et al., TPAMI 2016: 9-5-5 trained on ImageNet, x3, (PSNR, SSIM) on Set5 and Set14.
PAPER_X3 = {"Set5": (32.75, 0.9090), "Set14": (29.30, 0.8215)}


def published_srcnn(scale: int | None = None) -> SRCNN:
    """The authors' weights as `ckpt_path=` loads them (srlab's .mat reader and layout)."""
    net = load_net(published_file(SRCNN_FILE), scale)
    assert isinstance(net, SRCNN)
    return net


@pytest.mark.parametrize(
    ("overrides", "parameters"),
    [([], 57_281), (["model.kernel_sizes=[9,1,5]"], 8_129)],  # 9-5-5 and 9-1-5
)
def test_config_builds_the_papers_parameter_counts(overrides, parameters, tmp_path):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(
            "train", overrides=["model=srcnn", *overrides, f"paths.output_dir={tmp_path}"]
        )
    with torch.device("meta"):
        net = instantiate(cfg.model)()
    assert isinstance(net, SRCNN)
    assert count_parameters(net) == parameters


@pytest.mark.parametrize("padding", ["replicate", "zeros"])
@pytest.mark.parametrize("channels", ["y", "rgb"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_rgb_in_rgb_out_at_scale_times_a_non_square_batch(scale, channels, padding):
    net = SRCNN(scale=scale, channels=channels, padding=padding, **TINY)
    assert net(torch.rand(2, 3, 7, 11)).shape == (2, 3, 7 * scale, 11 * scale)
    assert (net.scale, net.input_channels) == (scale, 3)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"kernel_sizes": (9, 4, 5)}, "model.kernel_sizes"),
        ({"kernel_sizes": (9, 5)}, "model.kernel_sizes"),
        ({"n_feats": (64, 0)}, "model.n_feats"),
        ({"padding": "reflect"}, "model.padding"),
        ({"channels": "ycbcr"}, "model.channels"),
        ({"scale": 1}, "scale"),
    ],
)
def test_a_setting_it_cannot_build_names_its_key(settings, key):
    with pytest.raises(SRLabError, match=key):
        SRCNN(**{"scale": 3, **TINY, **settings})


def test_the_layout_reads_the_files_settings_and_takes_the_scale_asked_for():
    net = published_srcnn()
    assert net.scale == 3  # the file's, named in its file name only
    assert [conv.kernel_size for conv in net.body if isinstance(conv, torch.nn.Conv2d)] == [
        (9, 9),
        (5, 5),
        (5, 5),
    ]
    assert published_srcnn(scale=2).scale == 2


def srcnn_m(y: np.ndarray, mat: dict[str, torch.Tensor]) -> np.ndarray:
    """The authors' SRCNN.m in NumPy, from the file's own arrays: each filter is
    reshape(weights(...), k, k) (column-major), applied by imfilter(x, h, 'same', 'replicate'):
    out(i, j) = sum_{u, v} h(u, v) x(i + u - c, j + v - c) over the edge-padded x (u along
    rows); ReLU after the first two layers."""
    layers = [
        mat["weights_conv1"].double().numpy()[None],  # (k^2, 64) -> (1, k^2, 64)
        mat["weights_conv2"].double().numpy(),  # (64, k^2, 32)
        mat["weights_conv3"].double().numpy()[:, :, None],  # (32, k^2) -> (32, k^2, 1)
    ]
    features = y[:, :, None]
    height, width = y.shape
    for index, weights in enumerate(layers, start=1):
        n_in, n_taps, n_out = weights.shape
        size = int(round(np.sqrt(n_taps)))
        bias = mat[f"biases_conv{index}"].double().numpy().ravel()
        filters = np.empty((size, size, n_in, n_out))
        for channel in range(n_in):
            for out in range(n_out):  # MATLAB's reshape(weights(channel, :, out), k, k)
                taps = weights[channel, :, out]
                filters[:, :, channel, out] = taps.reshape(size, size, order="F")
        half = size // 2
        padded = np.pad(features, ((half, half), (half, half), (0, 0)), mode="edge")
        result = np.broadcast_to(bias, (height, width, n_out)).copy()
        for u in range(size):
            for v in range(size):
                result += padded[u : u + height, v : v + width] @ filters[u, v]
        features = np.maximum(result, 0) if index < len(layers) else result
    return features[:, :, 0]


def test_the_published_net_computes_what_the_authors_matlab_code_computes():
    """An orientation check that the scores cannot make: all filters transposed is the same
    net run on the transposed image, which scores within ~0.01 dB of the right one."""
    net = published_srcnn()
    y = np.random.default_rng(0).uniform(16 / 255, 235 / 255, size=(14, 19))  # not square
    with torch.no_grad():
        ours = net.body(torch.from_numpy(y).float()[None, None])[0, 0].double().numpy()
    np.testing.assert_allclose(ours, srcnn_m(y, read_mat(published_file(SRCNN_FILE))), atol=2e-5)


@pytest.mark.parametrize("name", ["Set5", pytest.param("Set14", marks=pytest.mark.slow)])
def test_the_published_weights_score_the_papers_numbers(name):
    """Dong et al.'s PSNR to its two decimals within 0.03 dB, as srlab's eval scores it."""
    psnr, ssim = benchmark_scores(published_srcnn(), 3, name)
    paper_psnr, paper_ssim = PAPER_X3[name]
    assert abs(round(psnr, 2) - paper_psnr) <= 0.03 + 1e-9, psnr
    assert abs(ssim - paper_ssim) <= Y_PAPER_SSIM_TOLERANCE, ssim
