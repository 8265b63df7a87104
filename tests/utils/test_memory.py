"""keep_freed_blocks: a training step's freed activations stay in the process, so the next step
does not fault them in again (page faults counted, not timed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from srlab.utils.memory import keep_freed_blocks

# Training steps of make train's net (8 x 32, x2, batch 16 of 48x48 LR): the minor page faults
# of steps 3 to 8, once the first steps have sized everything.
STEPS = """
import resource, sys, torch
from srlab.models.resnet_sr import ResNetSR
from srlab.utils.memory import keep_freed_blocks
if sys.argv[1] == "keep":
    assert keep_freed_blocks()
torch.set_num_threads(1)
net = ResNetSR(scale=2, n_resblocks=8, n_feats=32)
optimizer = torch.optim.Adam(net.parameters())
lr, hr = torch.rand(16, 3, 48, 48), torch.rand(16, 3, 96, 96)
for step in range(8):
    if step == 2:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    optimizer.zero_grad()
    (net(lr) - hr).abs().mean().backward()
    optimizer.step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", STEPS, mode], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not keep_freed_blocks(), reason="glibc's mallopt only")
def test_freed_blocks_are_reused_instead_of_faulted_in_every_step() -> None:
    default, kept = page_faults("default"), page_faults("keep")
    # glibc's default gives the activations back and faults them in again: ~80 MiB a step
    assert default > 6 * 5000
    assert kept * 10 < default
