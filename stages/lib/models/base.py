"""What every model shares: the data it trains on, target scaling, and the predictor shape."""
from __future__ import annotations

import dataclasses
import os
from typing import Callable

import numpy as np

from ..keypoints import IMAGE_SIZE

# Pixel coordinates <-> [-1, 1]: the image centre maps to 0 and its edges to +-1.
TARGET_CENTER = (IMAGE_SIZE - 1) / 2
TARGET_SCALE = IMAGE_SIZE / 2


@dataclasses.dataclass(frozen=True)
class Faces:
    images: np.ndarray  # uint8 (N, 96, 96)
    keypoints: np.ndarray  # float32 (N, 30), NaN where missing

    def __len__(self) -> int:
        return len(self.images)

    @staticmethod
    def from_arrays(arrays: dict[str, np.ndarray]) -> "Faces":
        return Faces(arrays["images"], arrays["keypoints"])


# images uint8 (N, 96, 96) -> keypoints float32 (N, 30) in pixels.
Predictor = Callable[[np.ndarray], np.ndarray]
# Called once per epoch with that epoch's metrics (train/loss, val/loss, val/rmse, lr, ...).
EpochCallback = Callable[[int, dict[str, float]], None]


def normalize_targets(keypoints: np.ndarray, enabled: bool) -> np.ndarray:
    return ((keypoints - TARGET_CENTER) / TARGET_SCALE).astype(np.float32) if enabled else keypoints


def denormalize_targets(values: np.ndarray, enabled: bool) -> np.ndarray:
    return (values * TARGET_SCALE + TARGET_CENTER).astype(np.float32) if enabled else values.astype(np.float32)


def target_unit_px(normalized: bool) -> float:
    """How many pixels one unit of the model's output is."""
    return TARGET_SCALE if normalized else 1.0


def cpu_threads(requested: int) -> int:
    """`requested`, or with 0 every core this process may run on."""
    if requested > 0:
        return requested
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of epoch `epoch`: a function of the seed and the epoch only."""
    return np.random.default_rng([seed, epoch]).permutation(n)
