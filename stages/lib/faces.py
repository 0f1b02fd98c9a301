"""Faces as every stage and model sees them: 96x96 grey images and their 30 keypoint values."""
from __future__ import annotations

import dataclasses

import numpy as np


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
