"""The one rule for which HR image another file belongs to by its name: an LR partner (training
LR folders, a test set's LR folder) or an SR result (srlab.score).

A name pairs with the HR image it starts with, followed by what SR tools append, taken off one
at a time from the end: `x4`, `_x4`, `-x4`, `_SR` (DIV2K's `0801x4.png`, EDSR's
`baby_x4_SR.png`). Failing that, the RCAN/RDN test code's `<name>_<tag>_x<s>` pairs by `<name>`
on both sides: `baby_LRDN_x3.png` and `baby_RDN_x3.png` with `baby_HR_x3.png`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def tagged_name(stem: str, scale: int) -> str | None:
    """`baby` of the RCAN/RDN naming `baby_HR_x3`, `baby_LRBD_x3`, `baby_RDN_x3`; else None."""
    match = re.fullmatch(rf"(.+)_[A-Za-z][A-Za-z0-9+]*_[xX]{scale}", stem)
    return match.group(1) if match else None


def hr_stem(stem: str, hr_stems: Iterable[str], scale: int) -> str | None:
    """The HR image (its stem, one of `hr_stems`) that the file named `stem` belongs to."""
    hr_stems = set(hr_stems)
    suffix = re.compile(rf"[_-]?(?:[xX]{scale}|SR|sr)$")
    shorter = stem
    while shorter not in hr_stems:
        shorter, previous = suffix.sub("", shorter, count=1), shorter
        if shorter in (previous, ""):
            break
    else:
        return shorter
    name = tagged_name(stem, scale)
    if name is None or name in hr_stems:
        return name
    return {tagged_name(hr, scale): hr for hr in hr_stems}.get(name)


def display_name(hr: str, scale: int) -> str:
    """What an HR image is reported as: `baby` for `baby_HR_x3`, else its stem."""
    return tagged_name(hr, scale) or hr
