"""Test-time flip averaging: predict on the face and on its mirror, names swapped, and average."""
from __future__ import annotations

import numpy as np

from .keypoints import Predictor, flip_keypoints


def mirrored_prediction(predict: Predictor, images: np.ndarray) -> np.ndarray:
    """Predictions on the mirrored faces, mapped back onto the original faces."""
    return flip_keypoints(predict(np.ascontiguousarray(images[:, :, ::-1])))


def flip_average(direct: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    return ((direct + mirrored) / 2).astype(np.float32)


def with_flip_averaging(predict: Predictor) -> Predictor:
    return lambda images: flip_average(predict(images), mirrored_prediction(predict, images))
