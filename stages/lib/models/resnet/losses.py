"""NaN-masked keypoint losses for PyTorch.

Missing labels are NaN in the targets: they are excluded with `torch.where` before any
arithmetic touches them, so a batch with no labelled value gives a loss of exactly 0 and
zero (not NaN) gradients. The loss is the mean over the labelled values only.
"""
from __future__ import annotations

import math

import torch

from ..base import WING_EPS_PX, WING_W_PX


def elementwise(diff: torch.Tensor, kind: str, unit_px: float, huber_delta_px: float = 1.0) -> torch.Tensor:
    """Per-value loss of `diff` (model units; `unit_px` pixels per unit)."""
    if kind == "mse":
        return diff ** 2
    magnitude = diff.abs()
    if kind == "huber":
        delta = huber_delta_px / unit_px
        return torch.where(magnitude <= delta, 0.5 * diff ** 2, delta * (magnitude - 0.5 * delta))
    if kind == "wing":
        w, eps = WING_W_PX / unit_px, WING_EPS_PX / unit_px
        c = w - w * math.log(1 + w / eps)
        return torch.where(magnitude < w, w * torch.log1p(magnitude / eps), magnitude - c)
    raise ValueError(f"unknown loss {kind!r}")


def masked_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "mse", unit_px: float = 1.0,
                huber_delta_px: float = 1.0) -> torch.Tensor:
    mask = torch.isfinite(target)
    diff = torch.where(mask, pred - torch.where(mask, target, torch.zeros_like(target)), torch.zeros_like(pred))
    values = torch.where(mask, elementwise(diff, kind, unit_px, huber_delta_px), torch.zeros_like(pred))
    return values.sum() / mask.sum().clamp(min=1)
