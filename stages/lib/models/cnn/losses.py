"""NaN-masked keypoint losses for Keras 3 (any backend), mirroring the ResNet's `losses`.

Missing labels are NaN in the targets and are excluded with `where` before any arithmetic,
so a batch with no labelled value gives 0 loss and zero gradients.
"""
from __future__ import annotations

import math

from keras import ops

from ...params import Loss


def masked_loss(loss_params: Loss, unit_px: float = 1.0):
    """The Keras loss of `loss_params` (widths in pixels) on targets of `unit_px` pixels per unit."""
    kind = loss_params.kind
    if kind == "huber":
        delta = loss_params.delta_px / unit_px
    if kind == "wing":
        w, eps = loss_params.width_px / unit_px, loss_params.curvature_px / unit_px
        c = w - w * math.log(1 + w / eps)

    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        mask = ops.logical_not(ops.isnan(y_true))
        zeros = ops.zeros_like(y_pred)
        diff = ops.where(mask, y_pred - ops.where(mask, y_true, zeros), zeros)
        magnitude = ops.abs(diff)
        if kind == "mse":
            values = diff ** 2
        elif kind == "huber":
            values = ops.where(magnitude <= delta, 0.5 * diff ** 2, delta * (magnitude - 0.5 * delta))
        elif kind == "wing":
            values = ops.where(magnitude < w, w * ops.log1p(magnitude / eps), magnitude - c)
        else:
            raise ValueError(f"unknown loss {kind!r}")
        values = ops.where(mask, values, zeros)
        return ops.sum(values) / ops.maximum(ops.sum(ops.cast(mask, y_pred.dtype)), 1.0)

    loss.__name__ = f"masked_{kind}"
    return loss
