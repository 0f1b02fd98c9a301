"""Seeded train/validation split, stratified on "all 15 keypoints labelled", duplicates kept together.

Kaggle's training set holds the same photo more than once: on kaggle-train-jpeg, 1,100 rows
(576 pairs, all among the 4-point rows) have a twin whose standardised 24x24 thumbnail differs
by under 0.025 (RMS), then no nearest neighbour lies between 0.025 and 0.05, where distinct
faces begin (`duplicate_groups` on the shared copy; tests/test_split.py counts them). A random
split puts one twin in training and the other in validation, which flatters the
validation figure, so each group of near-identical faces lands on one side. params.yaml's
`split.duplicate_distance` of 0.05 sits in that empty band.
"""
from __future__ import annotations

import numpy as np

from .params import SplitParams

_THUMB = 24


def _thumbnails(images: np.ndarray) -> np.ndarray:
    n, size = len(images), images.shape[1]
    cell = size // _THUMB
    small = np.asarray(images, np.float32).reshape(n, _THUMB, cell, _THUMB, cell).mean(axis=(2, 4)).reshape(n, -1)
    small -= small.mean(axis=1, keepdims=True)
    small /= small.std(axis=1, keepdims=True) + 1e-6
    return small


def duplicate_groups(images: np.ndarray, max_distance: float) -> np.ndarray:
    """Per row, the smallest row index of its group of near-identical faces (itself when alone).

    Two faces are near-identical when their thumbnails' RMS difference is at most `max_distance`;
    a group is what those pairs connect (scikit-learn's radius neighbours, scipy's components).
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import NearestNeighbors

    small = _thumbnails(images)
    radius = max_distance * np.sqrt(small.shape[1])  # RMS difference -> Euclidean distance
    pairs = NearestNeighbors(radius=radius, algorithm="brute").fit(small).radius_neighbors_graph(mode="connectivity")
    _, labels = connected_components(pairs, directed=False)
    first = np.full(labels.max() + 1, len(labels))
    np.minimum.at(first, labels, np.arange(len(labels)))
    return first[labels]


def split_indices(keypoints: np.ndarray, params: SplitParams,
                  groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) row indices; each stratum gives about round(val_fraction * size) to val.

    `groups` (from `duplicate_groups`) keeps each group on one side: a group belongs to the
    stratum of its first row, and whole groups are drawn until the stratum's share is reached.
    Without duplicates this is exactly a seeded permutation of each stratum.
    """
    full = ~np.isnan(keypoints).any(axis=1)
    groups = np.arange(len(keypoints)) if groups is None else np.asarray(groups)
    rows_of: dict[int, list[int]] = {}
    for row, group in enumerate(groups.tolist()):
        rows_of.setdefault(group, []).append(row)
    firsts = np.array(sorted(rows_of), dtype=np.int64)
    rng = np.random.default_rng(params.seed)
    val = []
    for stratum in (firsts[full[firsts]], firsts[~full[firsts]]):
        n_val = int(round(params.val_fraction * sum(len(rows_of[g]) for g in stratum.tolist())))
        taken = 0
        for first in stratum[rng.permutation(len(stratum))].tolist():
            if taken >= n_val:
                break
            val += rows_of[first]
            taken += len(rows_of[first])
    val = np.array(sorted(val), dtype=np.int64)
    train = np.setdiff1d(np.arange(len(keypoints)), val)
    return train, val
