"""Test-time flip averaging: predict on the face and on its mirror, names swapped, and average."""
from __future__ import annotations

import numpy as np

from .keypoints import flip_keypoints
from .models.base import Predictor


def with_flip_averaging(predict: Predictor) -> Predictor:
    def averaged(images: np.ndarray) -> np.ndarray:
        direct = predict(images)
        mirrored = flip_keypoints(predict(np.ascontiguousarray(images[:, :, ::-1])))
        return ((direct + mirrored) / 2).astype(np.float32)

    return averaged
