"""K folds and an outer hold-out, for figures that beat the noise of one 80/20 split.

One 80/20 split's validation figure moves with whichever hard faces it happens to hold (on Kaggle's
faces two seeds of one recipe differ by up to 0.13 px), so accuracy claims average over folds. The
hold-out lets a fold ensemble, whose members together saw every other face, be scored on faces
none of them saw.
"""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from .sources import label_sources

HOLDOUT = -1  # fold_indices' mark for the outer hold-out


def fold_indices(keypoints: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Per row, its fold (0 .. folds-1) or HOLDOUT: folds + 1 parts of about equal size, each
    group of near-identical faces (`duplicate_groups`) whole, each stratified by label source
    (scikit-learn's StratifiedGroupKFold, shuffled by `seed`).

    The last part is the outer hold-out: no fold trains on it, so a fold ensemble (whose members
    together saw every other face) can still be scored there. Fold k validates on part k and
    trains on the other folds.
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    splitter = StratifiedGroupKFold(n_splits=folds + 1, shuffle=True, random_state=seed)
    assignment = np.empty(len(keypoints), np.int64)
    parts = splitter.split(np.zeros(len(keypoints)), label_sources(keypoints), np.asarray(groups))
    for part, (_, rows) in enumerate(parts):
        assignment[rows] = HOLDOUT if part == folds else part
    return assignment
