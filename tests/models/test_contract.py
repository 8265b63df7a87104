"""Every family in conf/model honours the contract that the rest of srlab relies on: it builds at
every scale with the right output size, learns (gradients reach every weight, a training step
changes it), exports to ONNX with onnxruntime giving its output, and comes back from an srlab
checkpoint by `load_net`. The options are found by globbing conf/model, so a new family is
checked the moment its config lands; each runs at its `conf/model/tiny/` size when it has one
(its paper size otherwise, which must then stay small enough for a fast test).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir, partial_config
from srlab.weights.exporters import export_net
from srlab.weights.loading import load_net
from srlab.weights.onnx_net import OnnxNet

CONF = Path(config_dir())
REFERENCES = {"bicubic"}  # not trained: the baseline the others are scored against
FAMILIES = sorted(
    path.stem for path in (CONF / "model").glob("*.yaml") if path.stem not in REFERENCES
)
SCALES = (2, 3, 4)
SMALL = 1_000_000  # parameters: a family without a tiny preset must be this small to test fast
# odd and unequal: a net that assumes square or even inputs fails; above ESA's 15 x 15 floor
LR_SIZE = (23, 21)


def one_option_per_class(options: list[str]) -> list[str]:
    """The first option of each net class: sizes aside, presets run the same code (and an
    ONNX export takes seconds)."""
    first: dict[str, str] = {}
    for option in options:
        first.setdefault(compose_family(option, 2).model._target_, option)
    return sorted(first.values())


def tiny_option(family: str) -> str:
    return f"tiny/{family}" if (CONF / "model" / "tiny" / f"{family}.yaml").is_file() else family


def compose_family(family: str, scale: int):
    with initialize_config_dir(str(CONF), version_base=None):
        return compose("train", overrides=[f"model={tiny_option(family)}", f"scale={scale}"])


def build(family: str, scale: int) -> tuple[torch.nn.Module, dict]:
    factory = instantiate(compose_family(family, scale).model)
    torch.manual_seed(0)
    return factory(), partial_config(factory)


def lr_batch(batch: int = 2, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, *LR_SIZE, generator=generator)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_is_small_at_its_test_size(family: str) -> None:
    net, _ = build(family, 2)
    assert count_parameters(net) < SMALL, f"add conf/model/tiny/{family}.yaml"


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("scale", SCALES)
def test_output_is_scale_times_the_input_at_every_scale(family: str, scale: int) -> None:
    net, _ = build(family, scale)
    with torch.no_grad():
        sr = net.eval()(lr_batch())
    assert sr.shape == (2, 3, scale * LR_SIZE[0], scale * LR_SIZE[1])
    assert torch.isfinite(sr).all()
    assert net.scale == scale


@pytest.mark.parametrize("family", FAMILIES)
def test_gradients_reach_every_weight_and_a_training_step_changes_them(family: str) -> None:
    cfg = compose_family(family, 2)
    net = instantiate(cfg.model)()
    loss = instantiate(cfg.module.loss)
    optimizer = instantiate(cfg.module.optimizer)(net.parameters())
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    hr = torch.rand(2, 3, 2 * LR_SIZE[0], 2 * LR_SIZE[1])
    total, _ = loss(net.train()(lr_batch()), hr)
    total.backward()
    without_grad = [name for name, p in net.named_parameters() if p.grad is None]
    assert not without_grad, f"no gradient reaches {without_grad}"
    optimizer.step()
    # A gate behind a ReLU may get an exact zero gradient at one random init; most must move.
    unchanged = [name for name, p in net.named_parameters() if torch.equal(p, before[name])]
    assert len(unchanged) <= 0.1 * len(before), f"a training step left {unchanged} unchanged"


@pytest.mark.parametrize("family", one_option_per_class(FAMILIES))
def test_onnx_export_runs_in_onnxruntime_as_the_net(family: str, tmp_path: Path) -> None:
    net, _ = build(family, 2)
    path = export_net(net, tmp_path / f"{family}.onnx", "onnx", {"scale": "2"}, opset=None)
    lr = lr_batch(batch=1, seed=3)
    with torch.no_grad():
        expected = net.eval()(lr)
    got = OnnxNet(path)(lr)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() < 1e-4


@pytest.mark.parametrize("family", FAMILIES)
def test_an_srlab_checkpoint_loads_back_as_the_same_net(family: str, tmp_path: Path) -> None:
    net, net_config = build(family, 3)
    path = tmp_path / "last.ckpt"
    state_dict = {f"net.{key}": value for key, value in net.state_dict().items()}
    torch.save({"srlab": {"net_config": net_config, "scale": 3}, "state_dict": state_dict}, path)
    loaded = load_net(path, scale=3)
    lr = lr_batch(seed=5)
    with torch.no_grad():
        assert torch.equal(loaded(lr), net.eval()(lr))
    assert type(loaded) is type(net)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_zero_for_any_size_or_count_is_refused_naming_the_key(family: str) -> None:
    """Every integer setting of a family (n_feats, n_resblocks, n_colors...) is a size: 0 is one
    line naming it, not a shape error deep in a conv (or a net with no body)."""
    model = compose_family(family, 2).model
    sizes = [key for key, value in model.items() if type(value) is int and key != "scale"]
    for key in sizes:
        with pytest.raises(SRLabError, match=f"model.{key}=0 must be"):
            instantiate(model, **{key: 0})()
