"""Test-time flip averaging: predict on the face and on its mirror, names swapped, and average.

A predictor whose labels sit off the pixels they mark (a label source's horizontal offset,
`resnet.mirror_offsets`) says so with `mirror_offsets` (`with_mirror_offsets`): mirrored back,
its predictions land twice that offset too far left, and are moved back by it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .keypoints import Predictor, flip_keypoints

# (faces, four_point) -> (faces, keypoints) each predicted keypoint's horizontal label offset in px
MirrorOffsets = Callable[[int, "np.ndarray | None"], np.ndarray]


def with_mirror_offsets(predict: Predictor, offsets: MirrorOffsets) -> Predictor:
    predict.mirror_offsets = offsets
    return predict


def mirror_offsets(predict: Predictor, faces: int, four_point: np.ndarray | None, keypoints: int) -> np.ndarray:
    """(faces, keypoints) the predictor's label offsets in px; zeros for one without."""
    offsets = getattr(predict, "mirror_offsets", None)
    return np.zeros((faces, keypoints), np.float32) if offsets is None else offsets(faces, four_point)


def mirrored_prediction(predict: Predictor, images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
    """Predictions on the mirrored faces, mapped back onto the original faces (a face's label
    source does not change in the mirror)."""
    mirrored = flip_keypoints(predict(np.ascontiguousarray(images[:, :, ::-1]), four_point))
    mirrored[:, 0::2] += 2 * mirror_offsets(predict, len(images), four_point, mirrored.shape[1] // 2)
    return mirrored


def flip_average(direct: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    return ((direct + mirrored) / 2).astype(np.float32)


def with_flip_averaging(predict: Predictor) -> Predictor:
    def averaged(images: np.ndarray, four_point: np.ndarray | None = None) -> np.ndarray:
        return flip_average(predict(images, four_point), mirrored_prediction(predict, images, four_point))

    return averaged
