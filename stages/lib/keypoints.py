"""Kaggle's 15 facial keypoints: names, column order and left/right pairs.

"left" is the subject's left, which lies on the image's right (larger x).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

IMAGE_SIZE = 96

KEYPOINTS: tuple[str, ...] = (
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
)
N_KEYPOINTS = len(KEYPOINTS)
COLUMNS: tuple[str, ...] = tuple(f"{k}_{axis}" for k in KEYPOINTS for axis in "xy")
N_COLUMNS = len(COLUMNS)

# What every trained model is used as: `predict(images, four_point=None)`, images uint8 (N, 96, 96)
# -> keypoints float32 (N, 30) in pixels. `four_point` (bool (N,), or None for none) marks faces
# whose four core keypoints are wanted in the 4-point source's convention (`sources.py`); models
# that know only one convention ignore it.
Predictor = Callable[..., np.ndarray]

# The four keypoints that every Kaggle training row has; the other 11 are often missing.
CORE_KEYPOINTS: tuple[str, ...] = (
    "left_eye_center",
    "right_eye_center",
    "nose_tip",
    "mouth_center_bottom_lip",
)
CORE_COLUMNS: tuple[str, ...] = tuple(f"{k}_{a}" for k in CORE_KEYPOINTS for a in "xy")


# Kaggle's 4-keypoint rows come from another annotation source that places these four points
# differently (measured from the eye line, the nose tip 6.6 px lower and the bottom lip 6.5 px
# higher on average than in the 15-point rows): a source-aware model predicts them as four
# keypoints of their own after the 15 (`sources.py`).
FOUR_POINT_KEYPOINTS: tuple[str, ...] = tuple(f"{k} (4-point)" for k in CORE_KEYPOINTS)


def _mirror_name(name: str) -> str:
    if "left" in name:
        return name.replace("left", "right")
    if "right" in name:
        return name.replace("right", "left")
    return name


def _flip_columns(names: tuple[str, ...]) -> np.ndarray:
    """Column i of the mirrored image's keypoints comes from column result[i] (x, y per name)."""
    points = np.array([names.index(_mirror_name(k)) for k in names])
    return np.array([2 * points[i // 2] + i % 2 for i in range(2 * len(names))])


# FLIP_PERMUTATION[i] is the keypoint that keypoint i becomes under a horizontal flip.
FLIP_PERMUTATION: np.ndarray = np.array([KEYPOINTS.index(_mirror_name(k)) for k in KEYPOINTS])
FLIP_COLUMN_PERMUTATION: np.ndarray = _flip_columns(KEYPOINTS)
# The same for the 15 keypoints followed by the 4-point source's four (38 columns).
_FLIP_COLUMNS_BY_WIDTH = {N_COLUMNS: FLIP_COLUMN_PERMUTATION,
                          2 * (N_KEYPOINTS + len(FOUR_POINT_KEYPOINTS)): _flip_columns(KEYPOINTS + FOUR_POINT_KEYPOINTS)}


def flip_keypoints(keypoints: np.ndarray, width: int = IMAGE_SIZE) -> np.ndarray:
    """Keypoints (..., 30), or (..., 38) with the 4-point source's four after them, of the
    horizontally mirrored image, names swapped left<->right.

    Coordinates are pixel-centre based (pixel j spans [j-0.5, j+0.5]), so x maps to width-1-x.
    """
    flipped = np.array(keypoints, dtype=np.float32, copy=True)
    flipped[..., 0::2] = (width - 1) - flipped[..., 0::2]
    return flipped[..., _FLIP_COLUMNS_BY_WIDTH[flipped.shape[-1]]]


def mean_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """(30,) mean of each column over the rows where it is labelled."""
    counts = (~np.isnan(keypoints)).sum(axis=0)
    if (counts == 0).any():
        raise ValueError("some keypoint has no label in the training data")
    return np.nanmean(keypoints, axis=0).astype(np.float32)
