"""conf/model/{resnet_sr,edsr,rcan}.yaml build the published nets: their parameter counts are
those the projects' own code gives (shared/data/interop/published_parameter_counts.json)."""

import pytest
import torch
from hydra import compose, initialize_config_dir

from srlab.ops.cost import count_parameters
from srlab.utils.hydra import config_dir, instantiate

# Mean shifts excluded (srlab keeps the mean in a buffer, not a parameter).
PUBLISHED = {
    ("resnet_sr", 2): 1_369_859,  # EDSR-baseline
    ("resnet_sr", 3): 1_554_499,
    ("resnet_sr", 4): 1_517_571,
    ("edsr", 2): 40_729_603,
    ("edsr", 3): 43_680_003,
    ("edsr", 4): 43_089_923,
    ("rcan", 2): 15_444_643,
    ("rcan", 3): 15_629_283,
    ("rcan", 4): 15_592_355,
}


@pytest.mark.parametrize(("model", "scale"), list(PUBLISHED))
def test_config_builds_the_published_parameter_count(model, scale, tmp_path):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(
            "train", overrides=[f"model={model}", f"scale={scale}", f"paths.output_dir={tmp_path}"]
        )
    with torch.device("meta"):  # full-size nets without allocating their weights
        net = instantiate(cfg.model)()  # the model group is a partial: the module builds it
    assert count_parameters(net) == PUBLISHED[(model, scale)]


def test_edsr_config_is_resnet_sr_at_32_blocks_256_features_res_scale_0_1(tmp_path):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=["model=edsr", f"paths.output_dir={tmp_path}"])
    assert cfg.model._target_ == "srlab.models.resnet_sr.ResNetSR"
    assert (cfg.model.n_resblocks, cfg.model.n_feats, cfg.model.res_scale) == (32, 256, 0.1)
