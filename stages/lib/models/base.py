"""What every model shares: the data it trains on, target scaling, and the predictor shape."""
from __future__ import annotations

import dataclasses
import os
from typing import Callable

import numpy as np

from ..keypoints import IMAGE_SIZE, Predictor  # noqa: F401  (Predictor: what `load` returns)


@dataclasses.dataclass(frozen=True)
class Faces:
    images: np.ndarray  # uint8 (N, 96, 96)
    keypoints: np.ndarray  # float32 (N, 30), NaN where missing
    image_ids: np.ndarray | None = None  # int64 (N,): where each face came from, when known

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, rows) -> "Faces":
        return Faces(self.images[rows], self.keypoints[rows],
                     None if self.image_ids is None else self.image_ids[rows])

    @staticmethod
    def from_arrays(arrays: dict[str, np.ndarray]) -> "Faces":
        return Faces(arrays["images"], arrays["keypoints"], arrays.get("image_ids"))


# Called once per epoch with that epoch's metrics (train/loss, val/loss, val/rmse, lr, ...).
EpochCallback = Callable[[int, dict[str, float]], None]


@dataclasses.dataclass(frozen=True)
class Targets:
    """The units a network learns keypoints in: [-1, 1] (normalized) or pixels.

    Normalized, the image centre maps to 0 and its edges to +-1.
    """

    normalized: bool
    CENTER = (IMAGE_SIZE - 1) / 2
    SCALE = IMAGE_SIZE / 2

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        pixels = np.asarray(pixels)
        return ((pixels - self.CENTER) / self.SCALE).astype(np.float32) if self.normalized else pixels

    def decode(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        return (values * self.SCALE + self.CENTER).astype(np.float32) if self.normalized else values.astype(np.float32)

    @property
    def unit_px(self) -> float:
        """How many pixels one unit of the network's output is."""
        return self.SCALE if self.normalized else 1.0


def mean_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """(30,) mean of each column over the rows where it is labelled."""
    counts = (~np.isnan(keypoints)).sum(axis=0)
    if (counts == 0).any():
        raise ValueError("some keypoint has no label in the training data")
    return np.nanmean(keypoints, axis=0).astype(np.float32)


def cpu_threads(requested: int | str) -> int:
    """`requested`, or with "all" every core this process may run on."""
    if requested != "all":
        return int(requested)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of epoch `epoch`: a function of the seed and the epoch only."""
    return np.random.default_rng([seed, epoch]).permutation(n)
