"""NaN-masked keypoint losses for PyTorch.

Missing labels are NaN in the targets: they are excluded with `torch.where` before any
arithmetic touches them, so a batch with no labelled value gives a loss of exactly 0 and
zero (not NaN) gradients. The loss is the mean over the labelled values only.
"""
from __future__ import annotations

import math

import torch

from ...params import Loss


def elementwise(diff: torch.Tensor, loss: Loss, unit_px: float) -> torch.Tensor:
    """Per-value loss of `diff` (model units; `unit_px` pixels per unit; the loss's widths in pixels)."""
    if loss.kind == "mse":
        return diff ** 2
    magnitude = diff.abs()
    if loss.kind == "huber":
        delta = loss.delta_px / unit_px
        return torch.where(magnitude <= delta, 0.5 * diff ** 2, delta * (magnitude - 0.5 * delta))
    if loss.kind == "wing":
        w, eps = loss.width_px / unit_px, loss.curvature_px / unit_px
        c = w - w * math.log(1 + w / eps)
        return torch.where(magnitude < w, w * torch.log1p(magnitude / eps), magnitude - c)
    raise ValueError(f"unknown loss {loss.kind!r}")


def masked_loss(pred: torch.Tensor, target: torch.Tensor, loss: Loss, unit_px: float = 1.0) -> torch.Tensor:
    mask = torch.isfinite(target)
    diff = torch.where(mask, pred - torch.where(mask, target, torch.zeros_like(target)), torch.zeros_like(pred))
    values = torch.where(mask, elementwise(diff, loss, unit_px), torch.zeros_like(pred))
    return values.sum() / mask.sum().clamp(min=1)


def heatmap_divergence(logits: torch.Tensor, target: torch.Tensor, centres_x: torch.Tensor, centres_y: torch.Tensor,
                       sigma: float) -> torch.Tensor:
    """Jensen-Shannon divergence (nats) of each labelled keypoint's softmax heatmap from a Gaussian
    of `sigma` centred on its label, averaged over labelled keypoints (DSNT's regularizer).

    logits (N, K, H, W); target (N, 2K) in the units of the cell centres (W and H of them), NaN
    where missing. The coordinate loss alone leaves the heatmaps' shape free (any spread with the
    right mean costs nothing); this gives them one, so their spread means something.
    """
    n, points, h, w = logits.shape
    xy = target.view(n, points, 2)
    labelled = torch.isfinite(xy).all(dim=-1)
    xy = torch.where(torch.isfinite(xy), xy, torch.zeros_like(xy))
    gx = torch.exp(-(centres_x.view(1, 1, w) - xy[..., :1]) ** 2 / (2 * sigma ** 2))
    gy = torch.exp(-(centres_y.view(1, 1, h) - xy[..., 1:]) ** 2 / (2 * sigma ** 2))
    q = (gy.unsqueeze(-1) * gx.unsqueeze(-2)).flatten(2)
    q = q / q.sum(dim=-1, keepdim=True).clamp(min=1e-12)
    log_p = torch.log_softmax(logits.flatten(2).float(), dim=-1)
    p = log_p.exp()
    m = (0.5 * (p + q)).clamp(min=1e-12)
    log_m = m.log()
    kl_p = (p * (log_p - log_m)).sum(dim=-1)
    kl_q = (q * (q.clamp(min=1e-12).log() - log_m)).sum(dim=-1)
    js = 0.5 * (kl_p + kl_q)
    return torch.where(labelled, js, torch.zeros_like(js)).sum() / labelled.sum().clamp(min=1)
