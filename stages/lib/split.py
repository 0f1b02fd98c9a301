"""Seeded train/validation split, stratified on "all 15 keypoints labelled"."""
from __future__ import annotations

import numpy as np

from .params import SplitParams


def split_indices(keypoints: np.ndarray, params: SplitParams) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) row indices; each stratum gives round(val_fraction * size) to val."""
    full = ~np.isnan(keypoints).any(axis=1)
    rng = np.random.default_rng(params.seed)
    val = []
    for stratum in (np.flatnonzero(full), np.flatnonzero(~full)):
        n_val = int(round(params.val_fraction * len(stratum)))
        val.append(rng.permutation(stratum)[:n_val])
    val = np.sort(np.concatenate(val))
    train = np.setdiff1d(np.arange(len(keypoints)), val)
    return train, val
