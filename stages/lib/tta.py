"""Test-time flip averaging: predict on the face and on its mirror, names swapped, and average."""
from __future__ import annotations

import numpy as np

from .keypoints import Predictor, flip_keypoints


def mirrored_prediction(predict: Predictor, images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
    """Predictions on the mirrored faces, mapped back onto the original faces (a face's label
    source does not change in the mirror)."""
    return flip_keypoints(predict(np.ascontiguousarray(images[:, :, ::-1]), four_point))


def flip_average(direct: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    return ((direct + mirrored) / 2).astype(np.float32)


def with_flip_averaging(predict: Predictor) -> Predictor:
    def averaged(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        return flip_average(predict(images, four_point), mirrored_prediction(predict, images, four_point))

    return averaged
