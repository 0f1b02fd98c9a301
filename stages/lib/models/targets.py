"""The units a network learns keypoints in, shared by both frameworks' networks."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..keypoints import IMAGE_SIZE


@dataclasses.dataclass(frozen=True)
class Targets:
    """[-1, 1] (normalized) or pixels. Normalized, the image centre maps to 0 and its edges to +-1."""

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
