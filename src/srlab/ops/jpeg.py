"""JPEG compression by OpenCV's libjpeg (not a codec of ours), a quality per image of a batch."""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor


def jpeg(images: Tensor, qualities: list[int]) -> Tensor:
    """float (B, C, H, W) on [0, 1] -> the same, each image encoded at its quality (1-100) and
    decoded, on the images' device (the codec runs on the CPU). C = 3 is RGB, C = 1 gray."""
    levels = images.detach().clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
    decoded = []
    for image, quality in zip(levels, qualities, strict=True):
        pixels = np.ascontiguousarray(image.transpose(1, 2, 0)[..., ::-1])  # OpenCV's BGR
        ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise RuntimeError(f"OpenCV could not encode a {pixels.shape} image as JPEG")
        back = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
        back = back[..., None] if back.ndim == 2 else back[..., ::-1]
        decoded.append(back.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(decoded)).to(images.device, images.dtype).div_(255)
